import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cacheTtlSeconds: 0 });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.fake.reset());

const client = () => new Anthropic({ baseURL: h.url, apiKey: 'sk-ant-test-client-key-000000', maxRetries: 0 });

describe('Anthropic pass-through', () => {
  it('non-streaming create with tools reaches the upstream untouched and returns its answer', async () => {
    h.fake.queue({ text: 'hello there', toolUse: [{ name: 'get_weather', input: { city: 'Paris' }, id: 'toolu_1' }], usage: { input_tokens: 12, output_tokens: 7 } });
    const msg = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'get_weather', description: 'w', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(msg.content[0]).toEqual({ type: 'text', text: 'hello there' });
    expect(msg.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
    expect(msg.usage.input_tokens).toBe(12);
    const rec = h.fake.requests[0];
    expect(rec?.path).toBe('/v1/messages');
    // The client's own credential reaches the provider in the form it was sent (no key configured).
    expect(rec?.headers['x-api-key'] ?? rec?.headers.authorization).toMatch(/sk-ant-test-client-key-000000$/);
    expect(rec?.headers['anthropic-version']).toBeTruthy();
    expect(rec?.headers['x-cco-token']).toBeUndefined();
  });

  it('forwards ?beta=true, anthropic-* and Claude Code headers, unknown body fields, byte for byte', async () => {
    const raw = '{"model":"claude-sonnet-4-5",  "max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"future_field":{"x":1.0}}';
    const res = await fetch(`${h.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'x-claude-code-session-id': 'sess-1' },
      body: raw,
    });
    expect(res.status).toBe(200);
    await res.json();
    const rec = h.fake.requests[0];
    expect(rec?.query).toBe('beta=true');
    expect(rec?.raw).toBe(raw);
    expect(rec?.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(rec?.headers['x-claude-code-session-id']).toBe('sess-1');
  });

  it('streams with the SDK (thinking, text, tool use) and the relayed bytes equal the upstream bytes', async () => {
    const reply = { thinking: 'let me think', text: 'streamed answer', toolUse: [{ name: 't', input: { a: 1 }, id: 'toolu_x' }] };
    h.fake.queue(reply);
    const stream = client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'go' }] });
    const final = await stream.finalMessage();
    expect(final.content.map((c) => c.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(final.content[1]).toMatchObject({ text: 'streamed answer' });

    // Same upstream answer fetched directly and through the gateway: identical except the ids the fake mints.
    const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'go' }] });
    const headers = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
    h.fake.queue({ ...reply, chunkDelayMs: 1 });
    const direct = await (await fetch(`${h.fake.url}/v1/messages`, { method: 'POST', headers, body })).text();
    h.fake.queue({ ...reply, chunkDelayMs: 1 });
    const via = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers, body });
    expect(via.headers.get('content-type')).toContain('text/event-stream');
    const viaText = await via.text();
    const norm = (s: string) => s.replace(/(msg|toolu|req)_fake[a-z0-9]+/g, '$1_ID');
    expect(norm(viaText)).toBe(norm(direct));
    expect(viaText.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
  });

  it('relays stream chunks as they arrive (first event before the upstream finishes)', async () => {
    h.fake.queue({ text: 'x'.repeat(64), chunkSize: 8, chunkDelayMs: 60 });
    const t0 = Date.now();
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const tFirst = Date.now() - t0;
    expect(new TextDecoder().decode(first.value)).toContain('message_start');
    let rest = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest++;
    }
    const tAll = Date.now() - t0;
    expect(rest).toBeGreaterThan(3);
    expect(tFirst).toBeLessThan(tAll - 300);
  });

  it('decompresses an answer the upstream compressed anyway (a proxy in between), streamed or not', async () => {
    const message = { id: 'msg_gz', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'from a gzip body' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 } };
    h.fake.queue({ fault: 'garbage', body: JSON.stringify(message), encoding: 'gzip' });
    const whole = await client().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'gzip me' }] });
    expect(whole.content[0]).toMatchObject({ text: 'from a gzip body' });
    const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    const stream =
      sse('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } } }) +
      sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
      sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'streamed gzip' } }) +
      sse('content_block_stop', { type: 'content_block_stop', index: 0 }) +
      sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }) +
      sse('message_stop', { type: 'message_stop' });
    h.fake.queue({ fault: 'garbage', body: stream, encoding: 'gzip' });
    const streamed = await client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'gzip stream' }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ text: 'streamed gzip' });
  });

  it('GET /v1/models through a compressing proxy: the list arrives decompressed', async () => {
    h.fake.compressJson = true;
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-4-5');
    expect((await client().models.retrieve('claude-haiku-4-5')).id).toBe('claude-haiku-4-5');
  });

  it('passes upstream client errors through with their status and body', async () => {
    h.fake.queue({ fault: 'status', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: too big' } } });
    const err = await client()
      .messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).message).toContain('max_tokens: too big');
  });

  it('count_tokens goes to the upstream', async () => {
    const r = await client().messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me please' }] });
    expect(r.input_tokens).toBeGreaterThan(0);
    expect(h.fake.requests[0]?.path).toBe('/v1/messages/count_tokens');
  });

  it('GET /v1/models lists the provider models, page by page, and GET /v1/models/:id gets one', async () => {
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-4-5');
    // the SDK pages with ?limit=&after_id=: the query string must reach the provider, or it pages forever
    const all: string[] = [];
    for await (const m of client().models.list({ limit: 1 })) {
      all.push(m.id);
      if (all.length > 10) break;
    }
    expect(all).toEqual(['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4o-mini']);
    expect(h.fake.requests.filter((r) => r.path === '/v1/models').map((r) => r.query)).toContain('limit=1&after_id=claude-sonnet-4-5');
    expect((await client().models.retrieve('claude-haiku-4-5')).id).toBe('claude-haiku-4-5');
  });
});
