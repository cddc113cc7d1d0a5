import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { daemonConfigSchema } from '../config/daemon-config.js';
import { createLogger } from '../core/logger.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeItem, RecordedRequest } from '../fake-provider/server.js';
import { Hub } from '../hub/hub.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { openTestStore } from '../testing/test-store.js';
import { waitFor } from '../testing/wait-for.js';
import { resolveStageAgents } from './agents.js';
import { PipelineApi } from './api.js';
import { BullQueue } from './bull-queue.js';
import { demoPipelineReply } from './demo-responder.js';
import { PipelineEngine } from './engine.js';
import { gatewayClient } from './llm-client.js';
import { stageOfSystemPrompt } from './prompts.js';
import { PipelineRepo } from './repo.js';
import type { TaskUpdateMessage } from './types.js';
import { Workspace } from './workspace.js';

// A retry (or any add) of a task whose BullMQ job is still active: the job that ran the task
// keeps its id (the task id) until its run has returned, so an add in that window used to do
// nothing and the task sat queued until the 30 s re-queue sweep.

const REDIS = process.env.REDIS_URL;
const PG = process.env.DATABASE_URL;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A key prefix of this test's own, its keys deleted at the end. */
function testPrefix(redisUrl: string): string {
  const prefix = `ccotest-${randomBytes(4).toString('hex')}`;
  cleanups.push(async () => {
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  return prefix;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!REDIS) {
  describe('BullQueue adds while a job is active', () => it.skip('skipped: set REDIS_URL to run it', () => {}));
} else {
  describe('BullQueue adds while a job is active', () => {
    const logger = createLogger({ level: 'warn' }).logger.child({ module: 'pipeline' });
    const newQueue = (prefix: string) => {
      const q = new BullQueue(REDIS, { concurrency: 2, prefix, logger });
      cleanups.push(() => q.close());
      return q;
    };
    /** A runner whose first run of each task waits for `finish()`. */
    const gatedRunner = () => {
      const runs: string[] = [];
      let finish: () => void = () => undefined;
      const gate = new Promise<void>((r) => (finish = r));
      const run = async (id: string) => {
        runs.push(id);
        if (runs.filter((r) => r === id).length === 1) await gate;
      };
      return { runs, run, finish: () => finish() };
    };

    it('runs a task added during its run again once that run is over (here and from another instance)', async () => {
      const prefix = testPrefix(REDIS);
      const a = newQueue(prefix);
      const b = newQueue(prefix);
      const r = gatedRunner();
      a.start(r.run);
      await a.add('t_here0001', 5);
      await waitFor(() => r.runs.length > 0 || undefined);
      // the same task added on this instance and on another one while its job is active
      await a.add('t_here0001', 5);
      await b.add('t_here0001', 5);
      expect(r.runs).toEqual(['t_here0001']);
      r.finish();
      await waitFor(() => r.runs.length > 1 || undefined, 2000);
      await sleep(300);
      // once: the two adds asked for one more run
      expect(r.runs).toEqual(['t_here0001', 't_here0001']);
    });

    it('runs a task added once once, also when a worker takes its job at once', async () => {
      const prefix = testPrefix(REDIS);
      const q = newQueue(prefix);
      const runs: string[] = [];
      q.start(async (id) => void runs.push(id));
      const ids = Array.from({ length: 20 }, (_, i) => `t_once${String(i).padStart(4, '0')}`);
      for (const id of ids) await q.add(id, 5);
      await waitFor(() => runs.length >= ids.length || undefined, 2000);
      await sleep(300);
      expect(runs.sort()).toEqual(ids);
    });

    it('runs a waiting task once however often it is added (the re-queue sweep)', async () => {
      const prefix = testPrefix(REDIS);
      const q = newQueue(prefix);
      for (let i = 0; i < 3; i++) await q.add('t_wait0001', 5);
      const runs: string[] = [];
      q.start(async (id) => void runs.push(id));
      await waitFor(() => runs.length > 0 || undefined, 2000);
      await sleep(300);
      expect(runs).toEqual(['t_wait0001']);
    });

    it('forgets a removed (cancelled) waiting task, and runs it once when it is added again', async () => {
      const prefix = testPrefix(REDIS);
      const q = newQueue(prefix);
      await q.add('t_gone0001', 5);
      await q.add('t_back0001', 5);
      await q.remove('t_gone0001');
      await q.remove('t_back0001');
      await q.add('t_back0001', 5);
      expect(await q.depth()).toBe(1);
      const runs: string[] = [];
      q.start(async (id) => void runs.push(id));
      await waitFor(() => runs.length > 0 || undefined, 2000);
      await sleep(300);
      expect(runs).toEqual(['t_back0001']);
    });
  });
}

if (!REDIS || !PG) {
  describe('retry on BullMQ + PostgreSQL', () => it.skip('skipped: set REDIS_URL and DATABASE_URL to run it', () => {}));
} else {
  describe('retry on BullMQ + PostgreSQL', () => {
    /**
     * Two instances (engine, BullMQ queue, API) on one store and one Redis; A runs the task
     * (B's worker starts later), and A's job stays active after its run until `open()`: the
     * window between a task's end and BullMQ's removal of its job, made long enough to hit.
     * The first integration call fails (no call retries), the next ones succeed.
     */
    const setup = async () => {
      const store = await openTestStore('postgres');
      cleanups.push(() => store.cleanup());
      const env = tempCcoEnv();
      cleanups.push(() => env.cleanup());
      const prefix = testPrefix(REDIS);
      const stageOf = (r: RecordedRequest) => stageOfSystemPrompt((r.body as { system?: unknown }).system);
      let integrationCalls = 0;
      const fake = await startFakeProvider({
        responder: (r): FakeItem => {
          if (stageOf(r) === 'integration' && ++integrationCalls === 1) return { fault: 'status', status: 500 };
          return demoPipelineReply(r) ?? { text: '' };
        },
      });
      cleanups.push(() => fake.close());
      const cfg = daemonConfigSchema.parse({ pipeline: { request_timeout_ms: 5000, call_retries: 0 } }).pipeline;
      const workspace = new Workspace(join(env.root, 'workspace'), join(env.root, 'archive'));
      const agents = resolveStageAgents(cfg, catalogOf([]));
      let open: () => void = () => undefined;
      const held = new Promise<void>((r) => (open = r));
      const instance = (name: string, hold?: Promise<void>) => {
        const repo = new PipelineRepo(store.store);
        const logger = createLogger({ level: 'warn' }).logger.child({ module: 'pipeline' });
        const hub = new Hub();
        const engine = new PipelineEngine({ repo, workspace, client: gatewayClient({ baseUrl: () => fake.url, timeoutMs: 5000 }), hub, logger, cfg, agents, instance: name });
        const queue = new BullQueue(REDIS, { concurrency: 2, prefix, logger });
        const api = new PipelineApi(engine, repo, () => queue, agents, cfg.max_requirement_chars);
        cleanups.push(async () => {
          engine.close();
          await queue.close();
        });
        const run = async (id: string) => {
          await engine.run(id);
          await hold;
        };
        return { engine, queue, api, hub, start: () => queue.start(run) };
      };
      const a = instance('host-a:1:x', held);
      const b = instance('host-b:2:y');
      a.start();
      const repo = new PipelineRepo(store.store);
      const completed = (id: string, ms: number) =>
        waitFor(async () => {
          const t = await repo.get(id);
          return t?.status === 'completed' && t.archived_at ? t : undefined;
        }, ms);
      return { a, b, repo, open: () => open(), completed, integrationCalls: () => integrationCalls };
    };

    for (const where of ['another instance', 'the instance that ran it'] as const) {
      it(`a task retried from ${where} the moment it failed runs again at once, not after the re-queue sweep`, async () => {
        const { a, b, repo, open, completed, integrationCalls } = await setup();
        const via = where === 'another instance' ? b : a;
        let retried: Promise<unknown> | undefined;
        a.hub.subscribe((m) => {
          const d = m.data as TaskUpdateMessage;
          if (m.type === 'task_update' && d.event === 'failed') retried = via.api.retry(d.task_id);
        });
        const { task_id: id } = await a.api.submit({ requirement: 'Build a command line tool that prints the time in Lisbon', priority: 5 });
        await waitFor(async () => ((await repo.get(id))?.owner === 'host-a:1:x' ? true : undefined));
        b.start();
        await waitFor(() => retried);
        // the retry is queued while A's job is still active
        await retried;
        open();
        const t = await completed(id, 3000);
        expect(t).toMatchObject({ status: 'completed', error: null });
        expect(integrationCalls()).toBe(2);
      }, 30_000);
    }
  });
}
