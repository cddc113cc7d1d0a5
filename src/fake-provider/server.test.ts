import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProvider } from './server.js';
import type { FakeProvider } from './server.js';

// The official SDKs are the referees: if they parse what the fake sends, the wire format is real.
describe('fake provider speaks the real protocols', () => {
  let fake: FakeProvider;
  let anthropic: Anthropic;
  let openai: OpenAI;
  beforeAll(async () => {
    fake = await startFakeProvider();
    anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers Anthropic messages, plain and streamed, with tool use and thinking', async () => {
    fake.queue({ text: 'hello there', usage: { input_tokens: 11, output_tokens: 3 } });
    const m = await anthropic.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(m.content[0]).toMatchObject({ type: 'text', text: 'hello there' });
    expect(m.usage.input_tokens).toBe(11);

    fake.queue({ thinking: 'let me think', text: 'calling a tool', toolUse: [{ name: 'get_weather', input: { city: 'Paris' } }] });
    const stream = anthropic.messages.stream({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'weather?' }] });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(final.content[2]).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(fake.requests.at(-1)?.body).toMatchObject({ stream: true, model: 'claude-x' });
  });

  it('answers OpenAI chat completions, plain and streamed with usage and tool calls', async () => {
    fake.queue({ text: 'bonjour' });
    const c = await openai.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]?.message.content).toBe('bonjour');

    fake.queue({ toolUse: [{ name: 'lookup', input: { q: 'x' } }] });
    const s = await openai.chat.completions.create({ model: 'gpt-x', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let args = '';
    let usage: unknown;
    let finish: string | null | undefined;
    for await (const chunk of s) {
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(JSON.parse(args)).toEqual({ q: 'x' });
    expect(finish).toBe('tool_calls');
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });

  it('injects a 429 with retry-after in the protocol error shape', async () => {
    fake.queue({ fault: 'status', status: 429, retryAfter: 2 });
    const err = await anthropic.messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(429);
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('2');
  });

  it('cuts a stream mid-way: the SDK sees an error, not a finished message', async () => {
    fake.queue({ fault: 'cut', afterEvents: 3 });
    const stream = anthropic.messages.stream({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] });
    await expect(stream.finalMessage()).rejects.toThrow();
  });

  it('notices a client that gives up on a hanging request', async () => {
    fake.queue({ fault: 'hang' });
    const before = fake.disconnects;
    const ac = new AbortController();
    const p = anthropic.messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await p;
    for (let i = 0; i < 100 && (fake.disconnects === before || fake.activeRequests > 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fake.disconnects).toBe(before + 1);
    expect(fake.activeRequests).toBe(0);
  });
});
