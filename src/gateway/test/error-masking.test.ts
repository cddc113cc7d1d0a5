import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

/** A key with no recognisable shape: only the gateway's knowledge of its own keys can mask it. */
const KEY = 'team-key-0123456789abcdef';

/** A provider that refuses every call and quotes the key it was sent, as some do. */
let echo: Server;
let h: Harness;
beforeAll(async () => {
  echo = createServer((req, res) => {
    const sent = String(req.headers['x-api-key'] ?? req.headers.authorization ?? '');
    const stream = req.url?.includes('stream');
    res.writeHead(401, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
    const error = { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${sent}` } };
    res.end(stream ? `event: error\ndata: ${JSON.stringify(error)}\n\n` : JSON.stringify(error));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  h = await startHarness({ cacheTtlSeconds: 0, env: { CCO_ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: KEY }, routing: { routes: [{ pattern: '^claude-', provider: 'anthropic', retries: 0 }] } });
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => echo.close(r));
});

describe("a provider's error that quotes the gateway's own key", () => {
  const post = (body: object, path = '/v1/messages') => fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });

  it('is masked on /v1/messages', async () => {
    const r = await post({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.status).toBe(401);
    const text = await r.text();
    expect(text).not.toContain(KEY);
    expect(text).toContain('invalid x-api-key: [REDACTED]');
  });

  it('is masked when the error comes as an event stream', async () => {
    const r = await post({ model: 'claude-x', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] }, '/v1/messages?stream=1');
    expect(r.status).toBe(401);
    const text = await r.text();
    expect(text).not.toContain(KEY);
  });

  it('is masked on GET /v1/models and /v1/models/:id', async () => {
    for (const path of ['/v1/models', '/v1/models/claude-x']) {
      const r = await fetch(`${h.url}${path}`, { headers: { 'anthropic-version': '2023-06-01' } });
      expect(r.status).toBe(401);
      const text = await r.text();
      expect(text, path).not.toContain(KEY);
      expect(text).toContain('[REDACTED]');
    }
  });
});
