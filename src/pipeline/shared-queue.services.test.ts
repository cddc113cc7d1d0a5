import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { daemonConfigSchema } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { createLogger } from '../core/logger.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider } from '../fake-provider/server.js';
import { Hub } from '../hub/hub.js';
import { buildApp } from '../server/app.js';
import { createMetricsRegistry } from '../server/metrics.js';
import type { ModuleContext } from '../server/module.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { StoreWriter } from '../store/sql-writer.js';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { demoPipelineReply } from './demo-responder.js';
import { gatewayClient } from './llm-client.js';
import { createPipelineModule } from './module.js';
import type { PipelineModule } from './module.js';

const REDIS = process.env.REDIS_URL;
const PG = process.env.DATABASE_URL;

// Two pipeline instances (as in two daemons) on one PostgreSQL schema and one Redis: tasks are
// BullMQ jobs, so both instances take work, and each task runs exactly once.
if (!REDIS || !PG) {
  describe('pipeline on BullMQ + PostgreSQL', () => it.skip('skipped: set REDIS_URL and DATABASE_URL to run the shared-queue suite', () => {}));
} else {
  describe('pipeline on BullMQ + PostgreSQL', () => {
    let store: TestStore;
    let fake: FakeProvider;
    const env = tempCcoEnv();
    const prefix = `ccotest-${randomBytes(4).toString('hex')}`;
    const instances: { mod: PipelineModule; app: FastifyInstance; hub: Hub }[] = [];

    beforeAll(async () => {
      store = await openTestStore('postgres');
      fake = await startFakeProvider({
        responder: async (r) => {
          await new Promise((res) => setTimeout(res, 30));
          return demoPipelineReply(r) ?? { text: '' };
        },
      });
      for (let i = 0; i < 2; i++) {
        const { logger, buffer } = createLogger({ level: 'warn' });
        const hub = new Hub();
        const metrics = createMetricsRegistry();
        const config = daemonConfigSchema.parse({ pipeline: { concurrency: 2, queue_prefix: prefix } });
        const ctx: ModuleContext = { config, paths: resolvePaths(env.env), store: store.store, writer: new StoreWriter(store.store), logger, logs: buffer, hub, metrics, redisUrl: REDIS, accessToken: 't', version: '0', selfUrl: () => fake.url, env: {} };
        const mod = await createPipelineModule(ctx, { catalog: catalogOf([]), llm: gatewayClient({ baseUrl: () => fake.url, timeoutMs: 10_000 }) });
        const app = await buildApp({ logger, metrics, security: { host: '127.0.0.1', accessToken: 't', port: () => 0 } });
        await mod.register?.(app);
        await app.ready();
        await mod.start?.();
        instances.push({ mod, app, hub });
      }
    });
    afterAll(async () => {
      for (const i of instances) {
        await i.mod.close?.();
        await i.app.close();
      }
      await fake?.close();
      await store?.cleanup();
      const redis = new Redis(REDIS);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      env.cleanup();
    });

    it('shares the tasks between the instances and runs each once', async () => {
      const [a, b] = instances;
      if (!a || !b) throw new Error('instances missing');
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const via = i % 2 ? b : a;
        const r = await via.app.inject({ method: 'POST', url: '/api/requirements', payload: { requirement: `Task ${i}: build a command line tool that prints the numbers from 1 to ${i + 10}`, priority: 1 + (i % 10) } });
        expect(r.statusCode).toBe(202);
        ids.push(r.json<{ task_id: string }>().task_id);
      }
      const end = Date.now() + 60_000;
      for (;;) {
        const list = await a.mod.listTasks({ limit: 50 });
        const done = list.tasks.filter((t) => ids.includes(t.id) && t.status === 'completed' && t.archived_at);
        if (done.length === ids.length) break;
        if (Date.now() > end) throw new Error(`only ${done.length} of ${ids.length} finished: ${JSON.stringify(list.tasks.map((t) => [t.id, t.status, t.error]))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // each task ran its stages exactly once, and both instances did some of the work
      const runners = new Map<string, number>();
      for (const i of instances) {
        for (const m of i.hub.recent({ types: ['task_update'] })) {
          const d = m.data as { task_id: string; event: string };
          if (d.event === 'started' && ids.includes(d.task_id)) runners.set(d.task_id, (runners.get(d.task_id) ?? 0) + 1);
        }
      }
      expect([...runners.values()].every((n) => n === 1)).toBe(true);
      expect(runners.size).toBe(ids.length);
      const perInstance = instances.map((i) => i.hub.recent({ types: ['task_update'] }).filter((m) => (m.data as { event: string }).event === 'started').length);
      expect(perInstance.every((n) => n > 0), `started per instance: ${perInstance.join(', ')}`).toBe(true);
      const analysisCalls = fake.requests.filter((r) => String((r.body as { system?: string }).system).includes('[cco-pipeline stage=analysis]')).length;
      expect(analysisCalls).toBe(ids.length);
      // a task queued on one instance can be read and cancelled from the other
      const t = await b.mod.getTask(ids[0] as string);
      expect(t?.status).toBe('completed');
      const c = await b.app.inject({ method: 'POST', url: `/api/tasks/${ids[0]}/cancel` });
      expect(c.statusCode).toBe(409);
      // the agent cards come from the shared store: both instances see all the work
      for (const i of instances) {
        const agents = await i.mod.listAgents();
        expect(agents.analyst).toMatchObject({ status: 'Ready', tasks_done: ids.length, current_task: null });
        expect(agents.implementer?.last_output).toMatch(/^1 file: main\.js$/);
      }
    });

    it('an instance that is stopping takes no more jobs: the other runs them at once, not after the 30 s re-queue sweep', async () => {
      const [a, b] = instances;
      if (!a || !b) throw new Error('instances missing');
      // a stop began on A (its HTTP grace): its engine declines tasks from here on
      a.mod.stopping?.();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await b.app.inject({ method: 'POST', url: '/api/requirements', payload: { requirement: `Stop ${i}: build a command line tool that prints the squares from 1 to ${i + 5}`, priority: 5 } });
        expect(r.statusCode).toBe(202);
        ids.push(r.json<{ task_id: string }>().task_id);
      }
      // was: A kept taking jobs and dropped them unrun; the tasks stayed queued until a sweep
      const end = Date.now() + 15_000;
      for (;;) {
        const list = await b.mod.listTasks({ limit: 50 });
        const done = list.tasks.filter((t) => ids.includes(t.id) && t.status === 'completed');
        if (done.length === ids.length) break;
        if (Date.now() > end) throw new Error(`only ${done.length} of ${ids.length} finished within 15 s: ${JSON.stringify(list.tasks.filter((t) => ids.includes(t.id)).map((t) => [t.id, t.status]))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }, 30_000);
  });
}
