import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cacheTtlSeconds: 0,
    routing: {
      routes: [
        { pattern: '^translate-', provider: 'openai', model: 'gpt-4o-mini', retries: 0 },
        // an Anthropic provider that cannot be reached (nothing listens on port 1), falling back to an OpenAI-format route
        { pattern: '^claude-counted', provider: 'anthropic', base_url: 'http://127.0.0.1:1', retries: 0, fallbacks: ['translate-me'] },
        { pattern: '^claude-', provider: 'anthropic', retries: 0 },
        { pattern: '^gpt-', provider: 'openai', retries: 0 },
        // OpenAI's own API with no key configured: never reached, the client's Anthropic key is refused first
        { pattern: '^elsewhere-', provider: 'openai', base_url: 'https://api.openai.com/v1', api_key_env: 'CCO_TEST_UNSET_OPENAI_KEY', retries: 0 },
      ],
    },
  });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.fake.reset());

const openai = () => new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'sk-openai-client-key-0000000000', maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: h.url, apiKey: 'sk-ant-client-key-00000000000', maxRetries: 0 });
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('OpenAI client, OpenAI-format upstream (pass-through)', () => {
  it('creates with tools', async () => {
    h.fake.queue({ toolUse: [{ name: 'get_weather', input: { city: 'Oslo' }, id: 'call_1' }] });
    const r = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'weather?' }], tools: [weatherTool] });
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    expect(r.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } });
    expect(h.fake.requests[0]?.path).toBe('/v1/chat/completions');
    expect(h.fake.requests[0]?.headers.authorization).toBe('Bearer sk-openai-client-key-0000000000');
  });

  it('streams with include_usage and records the usage', async () => {
    h.fake.queue({ text: 'streaming from openai', usage: { input_tokens: 21, output_tokens: 5 } });
    const s = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('streaming from openai');
    expect(usage?.prompt_tokens).toBe(21);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id', 'desc').executeTakeFirst();
    expect(row).toMatchObject({ client_format: 'openai', provider: 'openai', input_tokens: 21, output_tokens: 5, stream: 1, status: 200 });
  });

  it('streams without include_usage (the SDK default): the client gets the stream it asked for, the record its tokens', async () => {
    h.fake.queue({ text: 'no usage asked', usage: { input_tokens: 33, output_tokens: 4 } });
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-openai-client-key-0000000000' }, body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    const sse = await res.text();
    // the provider was asked for usage on the client's behalf
    expect((h.fake.requests.at(-1)?.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
    // ... and the client sees none of it: no usage chunk, no "usage": null in the others
    expect(sse).not.toContain('"usage"');
    const chunks = sse.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] });
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('no usage asked');
    expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id', 'desc').executeTakeFirst();
    expect(row).toMatchObject({ client_format: 'openai', stream: 1, status: 200, input_tokens: 33, output_tokens: 4 });
    expect(row?.cost_total).toBeGreaterThan(0);
  });

  it('GET /v1/models with the OpenAI SDK', async () => {
    const page = await openai().models.list();
    expect(page.data.length).toBeGreaterThan(0);
  });

  it('errors come back in the OpenAI shape', async () => {
    h.fake.queue({ fault: 'status', status: 429 });
    const err = await openai()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": 1,' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('JSON') } });
  });
});

describe('Anthropic client through a translating route to an OpenAI-format upstream', () => {
  it('create with tools: request and answer translated both ways', async () => {
    h.fake.queue({ text: 'checking', toolUse: [{ name: 'get_weather', input: { city: 'Rome' }, id: 'call_9' }], usage: { input_tokens: 30, output_tokens: 8 } });
    const msg = await anthropic().messages.create({
      model: 'translate-me',
      max_tokens: 64,
      system: 'be brief',
      tools: [{ name: 'get_weather', description: 'w', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [
        { role: 'user', content: 'weather in Rome?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_prev', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_prev', content: 'sunny' }, { type: 'text', text: 'and Rome?' }] },
      ],
    });
    const up = h.fake.requests[0];
    expect(up?.path).toBe('/v1/chat/completions');
    const ub = up?.body as { model: string; messages: { role: string; tool_call_id?: string }[]; tools: unknown[] };
    expect(ub.model).toBe('gpt-4o-mini');
    expect(ub.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    expect(ub.messages[3]?.tool_call_id).toBe('toolu_prev');
    expect(ub.tools).toHaveLength(1);
    // an Anthropic key is not handed to an OpenAI-format upstream (clientKeyPolicy)
    expect(up?.headers.authorization).toBeUndefined();
    expect(up?.headers['x-api-key']).toBeUndefined();
    expect(msg.model).toBe('translate-me');
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([
      { type: 'text', text: 'checking' },
      { type: 'tool_use', id: 'call_9', name: 'get_weather', input: { city: 'Rome' } },
    ]);
    expect(msg.usage.input_tokens).toBe(30);
    expect(msg.usage.output_tokens).toBe(8);
  });

  it('streams: OpenAI chunks become Anthropic events the SDK assembles', async () => {
    h.fake.queue({ text: 'translated stream text', toolUse: [{ name: 'get_weather', input: { city: 'Lima' }, id: 'call_s' }], usage: { input_tokens: 11, output_tokens: 6 } });
    const stream = anthropic().messages.stream({ model: 'translate-me', max_tokens: 64, messages: [{ role: 'user', content: 'go' }] });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('translated stream text');
    expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Lima' } });
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.output_tokens).toBe(6);
    expect((h.fake.requests[0]?.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
  });

  it('upstream errors are translated into the Anthropic shape with the upstream status', async () => {
    h.fake.queue({ fault: 'status', status: 429 });
    const err = await anthropic()
      .messages.create({ model: 'translate-me', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('a 200 the translation cannot read (an HTML page, JSON of another shape) is a 502 for the SDK, never a success', async () => {
    for (const garbage of [{ body: '<html>oops</html>', contentType: 'text/html' }, { body: '{"object":"list","data":[]}', contentType: 'application/json' }]) {
      h.fake.queue({ fault: 'garbage', ...garbage });
      const err = await anthropic()
        .messages.create({ model: 'translate-me', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(err, garbage.body).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
      expect(String((err as Error).message)).toMatch(/could not be read/);
    }
  });

  it('a cut OpenAI stream is reported as a stream error', async () => {
    h.fake.queue({ fault: 'cut', afterEvents: 2 });
    const err = await anthropic()
      .messages.stream({ model: 'translate-me', max_tokens: 64, messages: [{ role: 'user', content: 'go' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });

  it('count_tokens on an OpenAI-format route is estimated locally', async () => {
    const r = await anthropic().messages.countTokens({ model: 'translate-me', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(r.input_tokens).toBeGreaterThan(90);
    expect(h.fake.requests).toHaveLength(0);
    // an image counts as an image, not as its base64 text
    const image = { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'A'.repeat(400_000) } };
    const pic = await anthropic().messages.countTokens({ model: 'translate-me', messages: [{ role: 'user', content: [image, { type: 'text', text: 'describe' }] }] });
    expect(pic.input_tokens).toBeGreaterThan(1000);
    expect(pic.input_tokens).toBeLessThan(5000);
  });

  it('count_tokens falling back to an OpenAI-format route is estimated, never sent as a completion', async () => {
    const r = await anthropic().messages.countTokens({ model: 'claude-counted-1', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(r.input_tokens).toBeGreaterThan(90);
    expect(h.fake.requests).toHaveLength(0);
  });
});

describe('OpenAI client through a translating route to the Anthropic upstream', () => {
  it('n > 1 is refused in the OpenAI error shape, naming the field, and nothing goes upstream', async () => {
    const before = h.fake.requests.length;
    const err = await openai()
      .chat.completions.create({ model: 'claude-sonnet-4-5', n: 2, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((err as Error).message)).toMatch(/^400 n: 2 choices/);
    expect(h.fake.requests.length).toBe(before);
  });

  it('create and stream with tools', async () => {
    h.fake.queue({ toolUse: [{ name: 'get_weather', input: { city: 'Kyiv' }, id: 'toolu_k' }], usage: { input_tokens: 9, output_tokens: 4 } });
    const r = await openai().chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'weather' }], tools: [weatherTool], tool_choice: 'required' });
    const ub = h.fake.requests[0]?.body as { system: string; max_tokens: number; tool_choice: unknown; tools: { input_schema: unknown }[] };
    expect(h.fake.requests[0]?.path).toBe('/v1/messages');
    expect(ub).toMatchObject({ system: 'sys', max_tokens: 4096, tool_choice: { type: 'any' } });
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    expect(r.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'toolu_k', function: { name: 'get_weather', arguments: '{"city":"Kyiv"}' } });
    expect(r.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 4 });

    h.fake.queue({ text: 'hello from claude', usage: { input_tokens: 3, output_tokens: 2 } });
    const s = await openai().chat.completions.create({ model: 'claude-sonnet-4-5', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('hello from claude');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 2 });
  });
});

describe("a client's own key goes to its own provider only", () => {
  it("a key without a provider's prefix is converted and passed through a translating route", async () => {
    await new Anthropic({ baseURL: h.url, apiKey: 'team-proxy-key-123', maxRetries: 0 }).messages.create({ model: 'translate-me', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    expect(h.fake.requests[0]?.headers.authorization).toBe('Bearer team-proxy-key-123');
  });

  it('GET /v1/models keeps an Anthropic key from an OpenAI-format provider too', async () => {
    const r = await fetch(`${h.url}/v1/models`, { headers: { authorization: 'Bearer sk-ant-oat01-client-oauth-token-000' } });
    expect(r.status).toBe(200);
    const up = h.fake.requests.find((q) => q.path.startsWith('/v1/models'));
    expect(up).toBeDefined();
    expect(up?.headers.authorization).toBeUndefined();
  });

  it("an Anthropic key bound for OpenAI's API is refused with the fix, before anything is sent", async () => {
    const err = (await anthropic()
      .messages.create({ model: 'elsewhere-model', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as { status?: number; error?: { error?: { type?: string; message?: string } } };
    expect(err.status).toBe(401);
    expect(err.error?.error?.type).toBe('authentication_error');
    expect(err.error?.error?.message).toContain('No API key is configured for provider openai (set CCO_TEST_UNSET_OPENAI_KEY');
    expect(JSON.stringify(err)).not.toContain('sk-ant-client-key');
    expect(h.fake.requests).toHaveLength(0);
  });
});
