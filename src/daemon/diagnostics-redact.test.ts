import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';

describe('daemon /api/diagnostics', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({
      env: {
        ANTHROPIC_API_KEY: 'plainsecretvalue1',
        ANTHROPIC_CUSTOM_HEADERS: 'x-corp-auth: CORPHEADERSECRET\nx-tenant: TENANTSECRET',
        CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:47311/?api_key=QSECRET9&region=eu',
      },
    });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('masks custom headers per header and secret query parameters, keeping names', async () => {
    const r = await fetch(`${t.url}/api/diagnostics`, { headers: { 'x-cco-token': t.token } });
    expect(r.status).toBe(200);
    const text = await r.text();
    for (const secret of ['plainsecretvalue1', 'CORPHEADERSECRET', 'TENANTSECRET', 'QSECRET9']) expect(text).not.toContain(secret);
    const { env } = JSON.parse(text) as { env: Record<string, string> };
    expect(env).toMatchObject({
      ANTHROPIC_API_KEY: '[REDACTED]',
      ANTHROPIC_CUSTOM_HEADERS: 'x-corp-auth: [REDACTED]\nx-tenant: [REDACTED]',
      CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:47311/?api_key=[REDACTED]&region=eu',
    });
  });
});
