import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';

const url = process.env.REDIS_URL;

if (!url) describe('/health with Redis', () => it.skip('skipped: set REDIS_URL to run the Redis health check', () => {}));
else
  describe('/health with Redis', () => {
    it('reports Redis ok with its latency', async () => {
      const t = await startTestDaemon({ config: (c) => ({ ...c, storage: { ...c.storage, redis_url: url } }) });
      try {
        const r = await fetch(`${t.url}/health`);
        const body = (await r.json()) as { checks: Record<string, { status: string; latency_ms?: number }> };
        expect(body.checks.redis).toMatchObject({ status: 'ok', latency_ms: expect.any(Number) });
      } finally {
        await t.cleanup();
      }
    });
  });
