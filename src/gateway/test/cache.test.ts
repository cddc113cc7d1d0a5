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

type Json = Record<string, unknown>;
const base = { model: 'claude-sonnet-4-5', max_tokens: 32, temperature: 1, system: 'sys', messages: [{ role: 'user', content: 'Hello' }] };
const send = (body: Json, headers: Record<string, string> = {}, path = '/v1/messages') =>
  fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify(body) });
const cacheHeader = async (body: Json, headers: Record<string, string> = {}) => {
  const r = await send(body, headers);
  await r.arrayBuffer();
  return r.headers.get('x-cco-cache');
};

describe('response cache through the gateway', () => {
  it('hits on an identical request and misses when any output-affecting field differs', async () => {
    await fetch(`${h.url}/api/cache/clear`, { method: 'POST' });
    expect(await cacheHeader(base)).toBe('MISS');
    expect(await cacheHeader(base)).toBe('HIT');
    // metadata (Claude Code's session id) does not change the output
    expect(await cacheHeader({ ...base, metadata: { user_id: 'someone' } })).toBe('HIT');
    const variants: [string, Json, Record<string, string>?][] = [
      ['model', { ...base, model: 'claude-haiku-4-5' }],
      ['messages', { ...base, messages: [{ role: 'user', content: 'hello' }] }],
      ['system', { ...base, system: 'other' }],
      ['temperature', { ...base, temperature: 0.5 }],
      ['max_tokens', { ...base, max_tokens: 33 }],
      ['tools', { ...base, tools: [{ name: 't', input_schema: { type: 'object' } }] }],
      ['top_p', { ...base, top_p: 0.9 }],
      ['stop_sequences', { ...base, stop_sequences: ['x'] }],
      ['thinking', { ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }],
      ['stream', { ...base, stream: true }],
      ['unknown field', { ...base, new_param: 1 }],
      ['anthropic-beta header', base, { 'anthropic-beta': 'x' }],
      ['credentials', base, { 'x-api-key': 'other-key' }],
      // the credential that goes upstream is the Bearer token when x-api-key is empty
      ['an empty x-api-key and a Bearer token', base, { 'x-api-key': '', authorization: 'Bearer token-a' }],
      ['an empty x-api-key and another Bearer token', base, { 'x-api-key': '', authorization: 'Bearer token-b' }],
      // Azure's credential header, forwarded as it is
      ['an api-key header', base, { 'api-key': 'azure-a' }],
      ['another api-key header', base, { 'api-key': 'azure-b' }],
      ['openai-organization header', base, { 'openai-organization': 'org-a' }],
      ['openai-project header', base, { 'openai-project': 'proj-a' }],
    ];
    for (const [name, body, headers] of variants) {
      expect([name, await cacheHeader(body, headers)]).toEqual([name, 'MISS']);
      expect([name, await cacheHeader(body, headers)]).toEqual([name, 'HIT']);
    }
    const stats = (await (await fetch(`${h.url}/api/cache/stats`)).json()) as Json;
    expect(stats).toMatchObject({ hits: 1 + 1 + variants.length, misses: 1 + variants.length, entries: 1 + variants.length });
    expect(stats.hitRate).toBeCloseTo((2 + variants.length) / (3 + 2 * variants.length), 3);
    expect(stats.size).toBeGreaterThan(0);
    expect(stats.maxSize).toBe(16 * 1024 * 1024);
  });

  it('replays a cached stream byte for byte as a stream', async () => {
    const body = { ...base, stream: true, messages: [{ role: 'user', content: 'stream me' }] };
    h.fake.queue({ text: 'a streamed reply worth caching', thinking: 'hmm', chunkDelayMs: 2 });
    const first = await send(body);
    const a = Buffer.from(await first.arrayBuffer());
    const second = await send(body);
    const b = Buffer.from(await second.arrayBuffer());
    expect(second.headers.get('x-cco-cache')).toBe('HIT');
    // a hit carries this request's own id and the provider, as every answer does
    expect(second.headers.get('x-cco-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers.get('x-cco-request-id')).not.toBe(first.headers.get('x-cco-request-id'));
    expect(second.headers.get('x-cco-provider')).toBe('anthropic');
    expect(second.headers.get('content-type')).toContain('text/event-stream');
    expect(b.equals(a)).toBe(true);
  });

  it('bypass header skips the cache; errors and cut streams are never cached', async () => {
    const body = { ...base, messages: [{ role: 'user', content: 'bypass' }] };
    expect(await cacheHeader(body, { 'x-cco-cache': 'bypass' })).toBe('BYPASS');
    expect(await cacheHeader(body)).toBe('MISS');

    const errBody = { ...base, messages: [{ role: 'user', content: 'error' }] };
    h.fake.queue({ fault: 'status', status: 400 });
    const e1 = await send(errBody);
    expect(e1.status).toBe(400);
    await e1.text();
    expect(await cacheHeader(errBody)).toBe('MISS');

    const cutBody = { ...base, stream: true, messages: [{ role: 'user', content: 'cut' }] };
    h.fake.queue({ fault: 'cut', afterEvents: 3 });
    const c1 = await send(cutBody);
    const text = await c1.text();
    expect(text).toContain('event: error');
    expect(await cacheHeader(cutBody)).toBe('MISS');
  });

  it('keys on the query string: an answer to ?beta=true is not served to a request without it', async () => {
    const body = { ...base, messages: [{ role: 'user', content: 'query string' }] };
    const before = h.fake.requests.length;
    const first = await send(body, {}, '/v1/messages?beta=true');
    expect(first.headers.get('x-cco-cache')).toBe('MISS');
    await first.text();
    const plain = await send(body, {}, '/v1/messages');
    expect(plain.headers.get('x-cco-cache')).toBe('MISS');
    await plain.text();
    const again = await send(body, {}, '/v1/messages?beta=true');
    expect(again.headers.get('x-cco-cache')).toBe('HIT');
    await again.text();
    expect(h.fake.requests.length).toBe(before + 2);
    const dbg = (await (
      await fetch(`${h.url}/api/cache/debug`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: body, query: 'beta=true', headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } }) })
    ).json()) as { cached: boolean };
    expect(dbg.cached).toBe(true);
  });

  it('does not cache a stream that carried an error event, even when a terminal event followed it', async () => {
    const calls = () => h.fake.requests.length;
    // an OpenAI-compatible server (vLLM and others) sends [DONE] after its error chunk
    const openaiBody = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'error then done' }] };
    const openaiStream = 'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\ndata: {"error": {"message": "CUDA out of memory", "type": "InternalServerError", "code": 500}}\n\ndata: [DONE]\n\n';
    // an Anthropic stream with message_stop after its error event
    const anthropicBody = { ...base, stream: true, messages: [{ role: 'user', content: 'error then stop' }] };
    const anthropicStream = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    for (const [path, body, stream, translated] of [
      ['/v1/chat/completions', openaiBody, openaiStream, false],
      ['/v1/messages', anthropicBody, anthropicStream, false],
      // an Anthropic client on an OpenAI-format upstream: the translation stops at the error
      ['/v1/messages', { ...openaiBody, max_tokens: 16 }, openaiStream, true],
    ] as const) {
      for (let i = 0; i < 2; i++) {
        const before = calls();
        h.fake.queue({ fault: 'garbage', body: stream });
        const r = await send(body as Json, {}, path);
        const text = await r.text();
        expect(r.headers.get('x-cco-cache'), `${path} ${i}`).toBe('MISS');
        expect(calls(), `${path} ${i}`).toBe(before + 1);
        if (translated) {
          expect(text).toContain('event: error');
          expect(text).not.toContain('message_stop');
        }
      }
    }
  });

  it('top-items, debug (nearest entry and differing fields) and clear', async () => {
    const top = (await (await fetch(`${h.url}/api/cache/top-items?limit=3`)).json()) as { hits: number; size: number; key: string }[];
    expect(top).toHaveLength(3);
    expect(top[0]?.hits).toBeGreaterThanOrEqual(top[1]?.hits ?? 0);
    const dbg = (await (
      await fetch(`${h.url}/api/cache/debug`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: { ...base, temperature: 0.7 }, headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } }) })
    ).json()) as { cached: boolean; nearest: { differingFields: string[] } };
    expect(dbg.cached).toBe(false);
    expect(dbg.nearest.differingFields).toEqual(['body.temperature']);
    const same = (await (
      await fetch(`${h.url}/api/cache/debug`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: base, headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } }) })
    ).json()) as { cached: boolean; wouldHit: boolean };
    expect(same).toMatchObject({ cached: true, wouldHit: true });
    const bad = await fetch(`${h.url}/api/cache/debug`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"request": 5}' });
    expect(bad.status).toBe(400);
    const cleared = (await (await fetch(`${h.url}/api/cache/clear`, { method: 'POST' })).json()) as Json;
    expect(cleared).toMatchObject({ status: 'ok', cleared: expect.any(Number), freedMemory: expect.stringMatching(/^\d+(\.\d)?(B|KB|MB|GB)$/) });
    expect(((await (await fetch(`${h.url}/api/cache/stats`)).json()) as Json).entries).toBe(0);
  });
});

describe('cache settings', () => {
  it('TTL 0 disables the cache', async () => {
    const g = await startHarness({ cacheTtlSeconds: 0 });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await fetch(`${g.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(base) });
        await r.text();
        expect(r.headers.get('x-cco-cache')).toBe('BYPASS');
      }
      expect(g.fake.requests).toHaveLength(2);
      expect(((await (await fetch(`${g.url}/api/cache/stats`)).json()) as Json).enabled).toBe(false);
    } finally {
      await g.close();
    }
  });

  it('entries expire after the TTL', async () => {
    const g = await startHarness({ cacheTtlSeconds: 1 });
    try {
      const go = async () => {
        const r = await fetch(`${g.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(base) });
        await r.text();
        return r.headers.get('x-cco-cache');
      };
      expect(await go()).toBe('MISS');
      expect(await go()).toBe('HIT');
      await new Promise((r) => setTimeout(r, 1100));
      expect(await go()).toBe('MISS');
    } finally {
      await g.close();
    }
  });
});
