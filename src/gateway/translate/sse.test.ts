import { describe, expect, it } from 'vitest';
import { OpenaiToAnthropicStream } from './anthropic-to-openai-stream.js';
import { AnthropicToOpenaiStream } from './openai-to-anthropic-stream.js';
import { anthropicStream, openaiStream } from '../testing/sse-streams.js';
import { SseSplitter, SseText } from './sse.js';

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

  it('gives out a CR that ends a chunk at once: a stream with bare CR line ends may end on one', () => {
    const t = new SseText();
    expect(t.push(Buffer.from('data: {"a":1}\r\r'))).toBe('data: {"a":1}\n\n');
    expect(t.push(Buffer.from('data: 2\r'))).toBe('data: 2\n');
    expect(t.push(Buffer.from('\r'))).toBe('\n');
  });

  it('keeps waiting for the LF across a chunk that holds only part of a character', () => {
    const t = new SseText();
    const e = Buffer.from('é');
    expect(t.push(Buffer.from('x\r'))).toBe('x\n');
    expect(t.push(e.subarray(0, 1))).toBe('');
    expect(t.push(Buffer.concat([e.subarray(1), Buffer.from('\n')]))).toBe('é\n');
  });
});

describe('SseSplitter', () => {
  const whole = new SseSplitter().push(Buffer.from(anthropicStream));

  it('splits a stream into its events', () => {
    expect(whole.map((e) => e.event)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(JSON.parse(whole[3]?.data ?? '')).toMatchObject({ delta: { text: 'héllo — ✓ wörld' } });
  });

  it.each([1, 2, 5, 64, 100_000])('gives the same events for the stream cut every %i bytes, with LF, CRLF or CR line ends', (size) => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const s1 = new SseSplitter();
      expect(feed(anthropicStream.replace(/\n/g, eol), size, (b) => s1.push(b))).toEqual(whole);
    }
  });
});

describe('stream translators across chunk cuts', () => {
  it.each([1, 3, 7])('OpenAI → Anthropic: a CRLF stream cut every %i bytes translates like the whole LF stream', (size) => {
    const strip = (s: string) => s.replace(/"id":"msg_[^"]*"/g, '"id":"msg"');
    const expected = strip(new OpenaiToAnthropicStream('claude').push(Buffer.from(openaiStream)));
    const t = new OpenaiToAnthropicStream('claude');
    expect(strip((feed(openaiStream.replace(/\n/g, '\r\n'), size, (b) => t.push(b)) as string[]).join(''))).toBe(expected);
    expect(t.complete).toBe(true);
    expect(expected).toContain('héllo ✓');
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
