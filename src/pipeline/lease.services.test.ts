import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { daemonConfigSchema } from '../config/daemon-config.js';
import { createLogger } from '../core/logger.js';
import type { LogRecord } from '../core/log-buffer.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeItem } from '../fake-provider/server.js';
import { Hub } from '../hub/hub.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { openTestStore } from '../testing/test-store.js';
import { resolveStageAgents } from './agents.js';
import { BullQueue } from './bull-queue.js';
import { demoPipelineReply } from './demo-responder.js';
import { PipelineEngine } from './engine.js';
import { gatewayClient } from './llm-client.js';
import { stageOfSystemPrompt } from './prompts.js';
import { PipelineRepo } from './repo.js';
import { Workspace } from './workspace.js';
import { tcpRelay } from '../testing/tcp-relay.js';
import { waitFor as waitUpTo } from '../testing/wait-for.js';

/** Slower than the unit tests' waits: BullMQ's stalled-job sweep and Redis reconnects come first. */
const waitFor = <T>(fn: () => Promise<T | undefined> | T | undefined): Promise<T> => waitUpTo(fn, 20_000);

const REDIS = process.env.REDIS_URL;
const PG = process.env.DATABASE_URL;


const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


// The reviewer's repro: instance B runs a task with a slow upstream and loses Redis for longer
// than BullMQ's job lock; BullMQ hands the job to instance A. A must leave the task to B (its
// lease in PostgreSQL is fresh), so the stage runs once.
if (!REDIS || !PG) {
  describe('task leases on BullMQ + PostgreSQL', () => it.skip('skipped: set REDIS_URL and DATABASE_URL to run it', () => {}));
} else {
  describe('task leases on BullMQ + PostgreSQL', () => {
    it('a job BullMQ re-delivers while its first runner lost Redis does not run the task twice', async () => {
      const store = await openTestStore('postgres');
      cleanups.push(() => store.cleanup());
      const env = tempCcoEnv();
      cleanups.push(() => env.cleanup());
      const relay = await tcpRelay(REDIS);
      cleanups.push(() => relay.close());
      const prefix = `ccotest-${randomBytes(4).toString('hex')}`;
      cleanups.push(async () => {
        const redis = new Redis(REDIS);
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      });
      let open: (() => void) | undefined;
      const gate = new Promise<void>((r) => (open = r));
      const fake = await startFakeProvider({
        responder: async (r): Promise<FakeItem> => {
          if (stageOfSystemPrompt((r.body as { system?: unknown }).system) === 'implementation') await gate;
          return demoPipelineReply(r) ?? { text: '' };
        },
      });
      cleanups.push(() => fake.close());
      const cfg = daemonConfigSchema.parse({ pipeline: { request_timeout_ms: 60_000 } }).pipeline;
      const workspace = new Workspace(join(env.root, 'workspace'), join(env.root, 'archive'));
      const repo = new PipelineRepo(store.store);
      const instance = (name: string, redisUrl: string) => {
        const { logger, buffer } = createLogger({ level: 'info' });
        const logs: LogRecord[] = [];
        buffer.subscribe((rec) => logs.push(rec));
        const child = logger.child({ module: 'pipeline' });
        const engine = new PipelineEngine({ repo, workspace, client: gatewayClient({ baseUrl: () => fake.url, timeoutMs: 60_000 }), hub: new Hub(), logger: child, cfg, agents: resolveStageAgents(cfg, catalogOf([])), instance: name });
        const queue = new BullQueue(redisUrl, { concurrency: 2, prefix, logger: child, lockDurationMs: 1000, stalledIntervalMs: 500 });
        queue.start(async (id) => void (await engine.run(id)));
        cleanups.push(async () => {
          engine.close();
          await queue.close();
        });
        return { engine, queue, logs };
      };
      const b = instance('host-b:2:y', relay.url);
      const task = await b.engine.create({ requirement: 'Build a command line tool that converts Celsius to Fahrenheit and back', priority: 5 });
      await b.queue.add(task.id, 5);
      const implCalls = () => fake.requests.filter((r) => stageOfSystemPrompt((r.body as { system?: unknown }).system) === 'implementation').length;
      await waitFor(() => implCalls() > 0 || undefined);
      const a = instance('host-a:1:x', REDIS);

      relay.down();
      // BullMQ's lock lapses, A's worker takes the stalled job, and A leaves the task to B
      await waitFor(() => a.logs.some((l) => l.msg.includes(`task ${task.id} is running on host-b:2:y`)) || undefined);
      relay.up();
      open?.();
      await waitFor(async () => {
        const t = await repo.get(task.id);
        return t?.status === 'completed' && t.archived_at ? t : undefined;
      });
      expect(await repo.get(task.id)).toMatchObject({ status: 'completed', owner: 'host-b:2:y' });
      expect(implCalls()).toBe(1);
      expect((await repo.stages(task.id)).find((s) => s.stage === 'implementation')).toMatchObject({ attempts: 1, calls: 1 });
      expect(a.logs.some((l) => l.msg.includes('resumed'))).toBe(false);
      // B's outage: said once (then at most once per 30 s), each line naming its module once
      const outage = b.logs.filter((l) => /pipeline (queue|worker) \(redis\)/.test(l.msg));
      expect(outage.filter((l) => l.level === 'warn')).toHaveLength(1);
    }, 60_000);
  });
}
