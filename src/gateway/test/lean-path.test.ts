import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cacheTtlSeconds: 3600 });
});
afterAll(async () => {
  await h?.close();
});

/** A raw request (fetch refuses to set Host). */
function raw(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'lean path' }] });
const json = { 'content-type': 'application/json', 'x-api-key': 'k' };

describe('the lean /v1 handler keeps the security layer and the Fastify behaviour', () => {
  it('serves a loopback request and still observes http_request_duration_seconds', async () => {
    const r = await raw('/v1/messages?beta=true', json, body);
    expect(r.status).toBe(200);
    expect(r.headers['x-cco-cache']).toBe('MISS');
    expect(h.fake.requests.at(-1)).toMatchObject({ path: '/v1/messages', query: expect.stringContaining('beta=true') });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/messages",status_code="200"\} [1-9]/);
  });

  it('a client that leaves before any answer is observed as 499 (as its analytics row says), not as the default 200', async () => {
    const series = (text: string, status: number) => Number(new RegExp(`http_request_duration_seconds_count\\{method="POST",route="/v1/messages",status_code="${status}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    const before = await (await fetch(`${h.url}/metrics`)).text();
    h.fake.queue({ fault: 'hang' });
    const u = new URL(h.url);
    const req = http.request({ host: u.hostname, port: u.port, path: '/v1/messages', method: 'POST', headers: { ...json, 'content-length': String(Buffer.byteLength(body)) } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'leaving' }] }).padEnd(Buffer.byteLength(body)));
    for (let i = 0; i < 100 && h.fake.activeRequests === 0; i++) await new Promise((r) => setTimeout(r, 20));
    req.destroy();
    for (let i = 0; i < 100 && h.gateway.core.active.count > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 20));
    const after = await (await fetch(`${h.url}/metrics`)).text();
    expect(series(after, 499)).toBe(series(before, 499) + 1);
    expect(series(after, 200)).toBe(series(before, 200));
  });

  it('a foreign Host (DNS rebinding) or a browser Origin is refused by the security layer, never proxied', async () => {
    const before = h.fake.requests.length;
    const host = await raw('/v1/messages', { ...json, host: 'evil.example:80' }, body);
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body)).toMatchObject({ type: 'error', error: { type: 'permission_error', message: expect.stringContaining('Host evil.example') } });
    const origin = await raw('/v1/messages', { ...json, origin: 'http://evil.example' }, body);
    expect(origin.status).toBe(403);
    expect(JSON.parse(origin.body)).toMatchObject({ type: 'error', error: { type: 'permission_error', message: expect.stringContaining('Origin http://evil.example') } });
    expect(h.fake.requests.length).toBe(before);
  });

  it('a compressed body is a 415 naming content-encoding, and a UTF-8 BOM is dropped, on both paths', async () => {
    const before = h.fake.requests.length;
    // with a content-type: the lean handler; without: the Fastify route
    for (const headers of [json, { 'x-api-key': 'k' }]) {
      const gz = await raw('/v1/messages', { ...headers, 'content-encoding': 'gzip' }, body);
      expect(gz.status).toBe(415);
      expect(JSON.parse(gz.body)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('content-encoding: gzip') } });
    }
    expect(h.fake.requests.length).toBe(before);
    for (const headers of [json, { 'x-api-key': 'k' }]) {
      const r = await raw('/v1/messages', headers, `\uFEFF${body.replace('lean path', 'with a BOM')}`);
      expect(r.status).toBe(200);
      const seen = h.fake.requests.at(-1);
      expect(seen?.raw.charCodeAt(0)).toBe('{'.charCodeAt(0));
      expect(seen?.body).toMatchObject({ messages: [{ content: 'with a BOM' }] });
    }
  });

  it('answers body errors in the client shape, as the Fastify route does', async () => {
    const bad = await raw('/v1/chat/completions', json, '{"model": ');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_json' } });
    // No content-type: left to Fastify, which answers in the client's shape too.
    const r = await raw('/v1/messages', { 'x-api-key': 'k' }, body);
    expect(r.status).toBeLessThan(500);
    expect(() => JSON.parse(r.body) as unknown).not.toThrow();
    // An empty one too (the lean handler proxied it, the Fastify route refuses it)
    const before = h.fake.requests.length;
    const empty = await raw('/v1/messages', { 'x-api-key': 'k', 'content-type': '' }, body);
    expect(empty.status).toBe(415);
    expect(h.fake.requests.length).toBe(before);
  });
});
