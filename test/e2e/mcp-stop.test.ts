import { afterAll, describe, expect, it } from 'vitest';
import { call, httpClient, startMcpDaemon, TEAM_KEY } from './mcp-harness.js';

describe('stopping the daemon during an MCP tool call', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await cleanup?.().catch(() => undefined);
  });

  it('a wait_for_event in flight is told the daemon stops (to wait again from its cursor), and the stop takes well under the grace period', async () => {
    const d = await startMcpDaemon();
    cleanup = d.cleanup;
    const client = await httpClient(d.daemon.url, TEAM_KEY);
    const waiting = call<{ events: unknown[]; timed_out: boolean }>(client, 'wait_for_event', { event_type: 'never_published', timeout_ms: 30_000 }).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e: String(e) }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    await d.daemon.close();
    const ms = Date.now() - t0;
    // was: the call's sidecar request aborted at once, an empty answer, and ~4 s of stop; then an
    // empty answer that read as "nothing happened": now it says the daemon stops, to wait again
    expect(await waiting).toMatchObject({ ok: false, e: expect.stringMatching(/shutting_down.*wait again with after=0/) });
    expect(ms).toBeLessThan(2000);
    await client.close().catch(() => undefined);
  });
});
