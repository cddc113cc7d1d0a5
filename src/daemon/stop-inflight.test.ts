import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';

describe('stopping the daemon with an agent waiting', () => {
  it('a long-poll proxied through /api/orchestration answers at once; the stop does not wait out the grace period', async () => {
    const t = await startTestDaemon();
    let closed = false;
    try {
      const spawn = await fetch(`${t.url}/api/agents/spawn`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cco-token': t.token }, body: JSON.stringify({ agent_type: 'python-specialist', issue_id: 'issue-s' }) });
      const { token } = (await spawn.json()) as { token: string };
      const wait = fetch(`${t.url}/api/orchestration/events/wait/never_published?timeout=30000`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { timed_out?: boolean; events?: unknown[]; error?: { code?: string } } }),
        (): { status: number; body: { events?: unknown[]; error?: { code?: string } } } => ({ status: 0, body: {} }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await t.daemon.close();
      closed = true;
      const ms = Date.now() - t0;
      // was: 5 s of grace for a wait the sidecar then cut anyway (the agent saw a broken connection)
      expect(ms).toBeLessThan(3000);
      // answered, saying the sidecar stops (to wait again from the same cursor): not a broken connection
      const r = await wait;
      expect(r.status).toBe(503);
      expect(r.body.error?.code).toBe('shutting_down');
    } finally {
      if (!closed) await t.daemon.close();
      await t.cleanup().catch(() => undefined);
    }
  });
});
