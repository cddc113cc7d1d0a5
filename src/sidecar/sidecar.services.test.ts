import { describe, expect, it } from 'vitest';
import { call, startSidecarWorld } from './test-world.js';

const pgUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;

/** The sidecar over PostgreSQL (tsvector knowledge) with Redis wake-ups: two instances, one store. */
if (pgUrl && redisUrl) {
  describe('sidecar on PostgreSQL + Redis (real listeners)', () => {
    it('stores results, searches knowledge and wakes a waiter on another instance', async () => {
      const w = await startSidecarWorld({ dialect: 'postgres', redisUrl });
      try {
        const tok = await w.token('python-specialist', '*');
        const r = await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: 'ps', agent_type: 'python-specialist', issue_id: 'pg-1', result: { status: 'success', decisions: ['Use PostgreSQL advisory locks for ordering'] } } });
        expect(r.status).toBe(201);
        const again = await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: 'ps', agent_type: 'python-specialist', issue_id: 'pg-1', result: { status: 'success', decisions: ['Use advisory locks'] } } });
        expect(again.status).toBe(201);
        const k = await call<{ results: { content: string; kind: string }[] }>('GET', `${w.sidecarUrl}/api/knowledge?q=advisory+locking`, { token: tok });
        // the replaced result's decisions are gone from the index
        expect(k.body.results.filter((h) => h.kind === 'decision').map((h) => h.content)).toEqual(['Use advisory locks']);
        const s = await call<{ storage: { results_stored: number } }>('GET', `${w.sidecarUrl}/status`);
        expect(s.body.storage.results_stored).toBe(1);

        // a second sidecar instance over the same schema and Redis channel
        const { createSidecarModule } = await import('./module.js');
        const { seedCatalog } = await import('./test-world.js');
        const second = await createSidecarModule({ ...w.ctx, paths: { ...w.paths } }, { catalog: seedCatalog() });
        await second.start?.();
        try {
          const url2 = second.url() as string;
          const waiting = call<{ events: { data: unknown }[] }>('GET', `${url2}/api/events/wait/cross_instance?timeout=5000`, { token: tok });
          await new Promise((res) => setTimeout(res, 100));
          await call('POST', `${w.sidecarUrl}/api/events/cross_instance`, { token: tok, body: { topic: 'x', data: { from: 'first' } } });
          expect((await waiting).body.events[0]?.data).toEqual({ from: 'first' });
        } finally {
          await second.close?.();
        }
      } finally {
        await w.close();
      }
    });
  });
} else {
  describe('sidecar on PostgreSQL + Redis', () => it.skip('skipped: set DATABASE_URL and REDIS_URL to run', () => {}));
}
