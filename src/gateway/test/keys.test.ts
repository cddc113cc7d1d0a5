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

  it('a key the provider refuses (401) is replaced by the next configured key for the same request', async () => {
    const before = h.fake.requests.length;
    h.fake.queue({ fault: 'status', status: 401 }, { text: 'other key worked' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'client-own-key' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'y' }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ content: [{ text: 'other key worked' }] });
    const used = h.fake.requests.slice(before).map((r) => r.headers['x-api-key']);
    expect(used).toHaveLength(2);
    expect(used[0]).not.toBe(used[1]);
  });

  it("mask a configured key that the provider's error answer quotes", async () => {
    h.fake.queue({ fault: 'status', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'Incorrect API key provided: sk-ant-team-key-a-000000000 (or sk-ant-team-key-b-000000000)' } } });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'client-own-key' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'z' }] }),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain('sk-ant-team-key');
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('Incorrect API key provided: [REDACTED]') } });
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

describe('team mode (bound beyond loopback)', () => {
  it('requires the gateway credential on /v1 and never forwards it', async () => {
    const t = await startHarness({
      cacheTtlSeconds: 0,
      env: { TEAM_KEY: 'sk-ant-provider-key-00000000' },
      routing: { routes: [{ pattern: '^claude-team', api_key_env: 'TEAM_KEY' }, { pattern: '^claude-' }] },
      gateway: { clientAuth: { isGatewayCredential: (tok) => tok === 'cco-access-token-xyz' } },
    });
    try {
      const send = (model: string, headers: Record<string, string>) =>
        fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }) });
      const denied = await send('claude-team-1', { 'x-api-key': 'some-provider-key' });
      expect(denied.status).toBe(401);
      expect(await denied.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      expect(t.fake.requests).toHaveLength(0);
      // The token as the SDK's API key: the configured provider key goes up instead.
      const ok = await send('claude-team-1', { 'x-api-key': 'cco-access-token-xyz' });
      expect(ok.status).toBe(200);
      await ok.text();
      expect(t.fake.requests[0]?.headers['x-api-key']).toBe('sk-ant-provider-key-00000000');
      // x-cco-token plus the client's own provider key: the own key goes up, the token does not.
      const own = await send('claude-other', { 'x-cco-token': 'cco-access-token-xyz', 'x-api-key': 'client-provider-key' });
      expect(own.status).toBe(200);
      await own.text();
      expect(t.fake.requests[1]?.headers['x-api-key']).toBe('client-provider-key');
      // GET /v1/models too: no credential, no list; the token never goes up
      const anonModels = await fetch(`${t.url}/v1/models`);
      expect(anonModels.status).toBe(401);
      const models = await fetch(`${t.url}/v1/models`, { headers: { 'x-api-key': 'cco-access-token-xyz', 'anthropic-version': '2023-06-01' } });
      expect(models.status).toBe(200);
      await models.text();
      expect(t.fake.requests.at(-1)?.path).toBe('/v1/models');
      expect(JSON.stringify(t.fake.requests.map((r) => r.headers))).not.toContain('cco-access-token-xyz');
    } finally {
      await t.close();
    }
  });
});
