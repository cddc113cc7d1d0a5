import { describe, expect, it } from 'vitest';
import { OpenaiToAnthropicStream } from './anthropic-to-openai-stream.js';
import { AnthropicToOpenaiStream } from './openai-to-anthropic-stream.js';
import { SseSplitter, SseText } from './sse.js';

const openaiStream = [
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"héllo — ✓"}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":5}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

const anthropicStream = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":15,"output_tokens":1}}}',
  '',
  'event: content_block_start',
  'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo — ✓"}}',
  '',
  'event: content_block_stop',
  'data: {"type":"content_block_stop","index":0}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":21}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\n');

/** Pushes `text` through `push` cut every `size` bytes and joins what comes out. */
function feed<T>(text: string, size: number, push: (b: Buffer) => T[] | string): unknown[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const r = push(bytes.subarray(i, i + size));
    if (typeof r === 'string') out.push(r);
    else out.push(...r);
  }
  return out;
}

describe('SseText', () => {
  it('makes CRLF, CR and LF line ends one LF, also when a chunk ends between CR and LF', () => {
    const t = new SseText();
    const out = ['a\r', '\nb\r', 'c\r\n', '\r', '\n'].map((c) => t.push(Buffer.from(c))).join('');
    expect(out).toBe('a\nb\nc\n\n');
  });
});

describe('SseSplitter', () => {
  const whole = new SseSplitter().push(Buffer.from(anthropicStream));

  it('splits a stream into its events', () => {
    expect(whole.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(JSON.parse(whole[2]?.data ?? '')).toMatchObject({ delta: { text: 'héllo — ✓' } });
  });

  it.each([1, 2, 5, 64])('gives the same events for the stream cut every %i bytes, with LF or CRLF line ends', (size) => {
    const s1 = new SseSplitter();
    expect(feed(anthropicStream, size, (b) => s1.push(b))).toEqual(whole);
    const s2 = new SseSplitter();
    expect(feed(anthropicStream.replace(/\n/g, '\r\n'), size, (b) => s2.push(b))).toEqual(whole);
  });
});

describe('stream translators across chunk cuts', () => {
  it.each([1, 3, 7])('OpenAI → Anthropic: a CRLF stream cut every %i bytes translates like the whole LF stream', (size) => {
    const strip = (s: string) => s.replace(/"id":"msg_[^"]*"/g, '"id":"msg"');
    const expected = strip(new OpenaiToAnthropicStream('claude').push(Buffer.from(openaiStream)));
    const t = new OpenaiToAnthropicStream('claude');
    expect(strip((feed(openaiStream.replace(/\n/g, '\r\n'), size, (b) => t.push(b)) as string[]).join(''))).toBe(expected);
    expect(t.complete).toBe(true);
    expect(expected).toContain('héllo — ✓');
  });

  it.each([1, 3, 7])('Anthropic → OpenAI: a CRLF stream cut every %i bytes translates like the whole LF stream', (size) => {
    const strip = (s: string) => s.replace(/"created":\d+/g, '"created":0');
    const expected = strip(new AnthropicToOpenaiStream('gpt', true).push(Buffer.from(anthropicStream)));
    const t = new AnthropicToOpenaiStream('gpt', true);
    expect(strip((feed(anthropicStream.replace(/\n/g, '\r\n'), size, (b) => t.push(b)) as string[]).join(''))).toBe(expected);
    expect(t.complete).toBe(true);
    expect(expected).toContain('[DONE]');
  });
});
