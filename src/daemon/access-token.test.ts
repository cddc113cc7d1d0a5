import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';

const TEAM_TOKEN = 'team-shared-access-token-0123456789';

describe('CCO_ACCESS_TOKEN: one credential for every instance of a team', () => {
  it('two daemons with their own homes take the same token; it works on both and is in each token file', async () => {
    const [a, b] = await Promise.all([startTestDaemon({ env: { CCO_ACCESS_TOKEN: TEAM_TOKEN } }), startTestDaemon({ env: { CCO_ACCESS_TOKEN: TEAM_TOKEN } })]);
    try {
      for (const t of [a, b]) {
        expect(t.token).toBe(TEAM_TOKEN);
        // where this machine's cco commands read it
        expect(readFileSync(t.daemon.paths.tokenFile, 'utf8')).toBe(TEAM_TOKEN);
        expect((await fetch(`${t.url}/api/status`, { headers: { 'x-cco-token': TEAM_TOKEN } })).status).toBe(200);
      }
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  });

  it('a short one stops the daemon with the fix, without printing it', async () => {
    const err = await startTestDaemon({ env: { CCO_ACCESS_TOKEN: 'too-short-token' } }).then(
      async (d) => {
        await d.cleanup();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/CCO_ACCESS_TOKEN is 15 characters; it must be at least 24 printable ASCII characters \(generate one: openssl rand -hex 24\)/);
    expect(err?.message).not.toContain('too-short-token');
  });
});
