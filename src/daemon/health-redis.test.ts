import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';

describe('/health reports Redis when the daemon has one (PRODUCT: database, Redis and memory)', () => {
  it('an unreachable Redis makes /health 503 with the Redis check down; the database and memory are still reported', async () => {
    const t = await startTestDaemon({ config: (c) => ({ ...c, storage: { ...c.storage, redis_url: 'redis://:hunter2-secret@127.0.0.1:1' } }) });
    try {
      const r = await fetch(`${t.url}/health`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { status: string; memory_usage_mb: number; checks: Record<string, { status: string; error?: string }> };
      expect(body.status).toBe('degraded');
      expect(body.checks.redis).toMatchObject({ status: 'down', error: expect.stringMatching(/^Redis is unreachable/) });
      expect(JSON.stringify(body)).not.toContain('hunter2-secret');
      expect(body.checks.database?.status).toBe('ok');
      expect(body.memory_usage_mb).toBeGreaterThan(0);
    } finally {
      await t.cleanup();
    }
  });

  it('without Redis there is no Redis check', async () => {
    const t = await startTestDaemon();
    try {
      const body = (await (await fetch(`${t.url}/health`)).json()) as { checks: Record<string, unknown> };
      expect(body.checks.redis).toBeUndefined();
    } finally {
      await t.cleanup();
    }
  });
});
