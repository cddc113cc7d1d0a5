import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cacheTtlSeconds: 0 });
});
afterAll(async () => {
  await h?.close();
});

const post = (path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(`${h.url}${path}`, { method: 'POST', headers, body: body as unknown as BodyInit });

/** A tiny deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('hostile input', () => {
  it('malformed JSON, wrong types and missing fields are 4xx JSON errors naming the field', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['/v1/messages', '{"model": "claude-x", ', 400, /JSON/],
      ['/v1/messages', '', 400, /JSON object/],
      ['/v1/messages', '[1,2]', 400, /JSON object/],
      ['/v1/messages', '"just a string"', 400, /JSON object/],
      ['/v1/messages', '{"model": 42, "max_tokens": 5, "messages": []}', 400, /^model:/],
      ['/v1/messages', '{"model": "claude-x", "max_tokens": "five", "messages": []}', 400, /^max_tokens:/],
      ['/v1/messages', '{"model": "claude-x", "max_tokens": 5, "messages": {}}', 400, /^messages:/],
      ['/v1/messages', '{"model": "claude-x", "max_tokens": 5, "messages": [], "stream": "yes"}', 400, /^stream:/],
      ['/v1/chat/completions', '{"model": "gpt-4o", "messages": "hi"}', 400, /^messages:/],
      ['/v1/messages/count_tokens', '{"messages": []}', 400, /^model:/],
    ];
    for (const [path, body, status, msg] of cases) {
      const r = await post(path, body);
      expect([path, body, r.status]).toEqual([path, body, status]);
      const j = (await r.json()) as { type?: string; error: { message: string } };
      expect(j.error.message).toMatch(msg);
      if (path.startsWith('/v1/messages')) expect(j.type).toBe('error');
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('items that are not objects are 400s naming the field, never 500s', async () => {
    const cases: [string, string, RegExp][] = [
      ['/v1/messages', '{"model": "claude-x", "max_tokens": 5, "messages": [null]}', /^messages\.0:/],
      ['/v1/messages', '{"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "system": [null]}', /^system/],
      ['/v1/messages', '{"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": [7]}', /^tools\.0:/],
      ['/v1/chat/completions', '{"model": "gpt-4o", "messages": [null]}', /^messages\.0:/],
      ['/v1/chat/completions', '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "tools": [null]}', /^tools\.0:/],
      // an OpenAI client to a Claude model: the translation reads inside the messages
      ['/v1/chat/completions', '{"model": "claude-sonnet-4-5", "messages": [{"role": "assistant", "tool_calls": [null]}]}', /^messages\.0\.tool_calls\.0:/],
    ];
    for (const [path, body, msg] of cases) {
      const r = await post(path, body);
      const j = (await r.json()) as { error: { message: string } };
      expect([path, body.slice(0, 120), r.status]).toEqual([path, body.slice(0, 120), 400]);
      expect(j.error.message).toMatch(msg);
    }
    // parts that are not objects carry nothing: skipped, not a crash
    const parts = await post('/v1/chat/completions', '{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [null, {"type": "text", "text": "hi"}]}]}');
    expect(parts.status).toBe(200);
  });

  it('unknown routes and methods are 404 JSON in the client shape', async () => {
    const a = await fetch(`${h.url}/v1/nope`, { method: 'POST', headers: { 'x-api-key': 'k' } });
    expect(a.status).toBe(404);
    expect(await a.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const b = await fetch(`${h.url}/v1/chat/other`, { method: 'POST' });
    expect(b.status).toBe(404);
    expect(await b.json()).toMatchObject({ error: { type: 'not_found_error' } });
    const c = await fetch(`${h.url}/v1/messages`, { method: 'GET' });
    expect(c.status).toBe(404);
    const d = await fetch(`${h.url}/api/cache/nope`);
    expect(d.status).toBe(404);
    expect(await d.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('a body over 32 MB is refused with 413 in the client shape', async () => {
    const big = Buffer.alloc(33 * 1024 * 1024, 0x61);
    const r = await post('/v1/messages', big);
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    // A large but allowed body (5 MB of conversation) goes through.
    const ok = await post('/v1/messages', JSON.stringify({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'y'.repeat(5 * 1024 * 1024) }] }), { 'content-type': 'application/json', 'x-api-key': 'k' });
    expect(ok.status).toBe(200);
    await ok.text();
  });

  it('random mutations of valid requests never produce a 5xx and the server stays up', async () => {
    const next = rng(7);
    const valid = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], temperature: 0.5 });
    const junk = ['{', '}', '[', ']', '"', ':', ',', 'null', '1e999', '\u0000', '\\', 'true', '-', '\ud800'];
    for (let i = 0; i < 150; i++) {
      let s = valid;
      const ops = 1 + Math.floor(next() * 3);
      for (let k = 0; k < ops; k++) {
        const at = Math.floor(next() * s.length);
        const op = next();
        if (op < 0.33) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(next() * 5));
        else if (op < 0.66) s = s.slice(0, at) + (junk[Math.floor(next() * junk.length)] as string) + s.slice(at);
        else s = s.slice(0, at);
      }
      const path = next() < 0.5 ? '/v1/messages' : '/v1/chat/completions';
      const r = await post(path, s, { 'content-type': next() < 0.9 ? 'application/json' : 'text/plain', 'x-api-key': 'k' });
      const text = await r.text();
      expect([i, s, r.status < 500]).toEqual([i, s, true]);
      expect(() => JSON.parse(text)).not.toThrow();
    }
    const health = await fetch(`${h.url}/api/cache/stats`);
    expect(health.status).toBe(200);
  });
});

describe('hostile input, cache on', () => {
  let hc: Harness;
  beforeAll(async () => {
    hc = await startHarness({ cacheTtlSeconds: 60 });
  });
  afterAll(async () => {
    await hc?.close();
  });

  it('JSON nested thousands of levels deep is a 400 naming the body (the cache key walks it), not a 500', async () => {
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const bodies: [string, string][] = [
      ['/v1/messages', `{"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "t", "input_schema": ${deep}}]}`],
      ['/v1/chat/completions', `{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "response_format": ${deep}}`],
    ];
    for (const [path, body] of bodies) {
      const r = await fetch(`${hc.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body });
      expect([path, r.status]).toEqual([path, 400]);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/^body: JSON nested too deeply/);
    }
    expect(hc.fake.requests).toHaveLength(0);
    // and the gateway still answers
    const ok = await fetch(`${hc.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: '{"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}' });
    expect(ok.status).toBe(200);
  });
});
