import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cacheTtlSeconds: 0,
    env: { TEAM_KEYS: 'sk-ant-team-key-a-000000000, sk-ant-team-key-b-000000000' },
    routing: { routes: [{ pattern: '^claude-', api_key_env: 'TEAM_KEYS', retries: 1 }], retry: { base_delay_ms: 1, max_delay_ms: 5 } },
  });
});
afterAll(async () => {
  await h?.close();
});

describe('configured provider keys', () => {
  it('replace the client credential and rotate to the next key after a 429', async () => {
    h.fake.queue({ fault: 'status', status: 429 }, { text: 'second key worked' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'client-own-key', authorization: 'Bearer client-oauth' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ content: [{ text: 'second key worked' }] });
    expect(h.fake.requests.map((r) => r.headers['x-api-key'])).toEqual(['sk-ant-team-key-a-000000000', 'sk-ant-team-key-b-000000000']);
    expect(h.fake.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('never put a key into analytics, debug output or diagnostics-like views', async () => {
    const dbg = await (await fetch(`${h.url}/api/debug/requests`)).text();
    expect(dbg).not.toContain('sk-ant-team-key');
    expect(dbg).not.toContain('client-own-key');
    await h.gateway.writer.flush();
    const rows = JSON.stringify(await h.store.db.selectFrom('gateway_requests').selectAll().execute());
    expect(rows).not.toContain('sk-ant-team-key');
    expect(rows).not.toContain('client-own-key');
    expect(JSON.stringify(await h.gateway.health())).not.toContain('sk-ant-team-key');
  });
});
