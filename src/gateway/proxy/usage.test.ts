import { describe, expect, it } from 'vitest';
import { anthropicStream, openaiStream } from '../testing/sse-streams.js';
import { SseObserver } from './usage.js';

/** Feeds `text` to a new observer cut into pieces of `size` bytes (cuts land inside UTF-8 characters too). */
function observe(format: 'anthropic' | 'openai', text: string, size: number): SseObserver {
  const o = new SseObserver(format);
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) o.push(bytes.subarray(i, i + size));
  return o;
}

describe('SseObserver', () => {
  it.each([1, 2, 3, 7, 64, 100_000])('reads usage and the end of an Anthropic stream cut every %i bytes', (size) => {
    const o = observe('anthropic', anthropicStream, size);
    expect(o.usage).toEqual({ input: 15, output: 21, cacheRead: 7, cacheWrite: 3 });
    expect(o.complete).toBe(true);
    expect(o.firstTokenAt).toBeTypeOf('number');
    expect(o.upstreamError).toBeUndefined();
  });

  it.each([1, 5, 100_000])('reads the same stream with CRLF or bare CR line ends, cut every %i bytes', (size) => {
    for (const eol of ['\r\n', '\r']) {
      const o = observe('anthropic', anthropicStream.replace(/\n/g, eol), size);
      expect(o.usage).toEqual({ input: 15, output: 21, cacheRead: 7, cacheWrite: 3 });
      expect(o.complete).toBe(true);
    }
  });

  it('does not take a CR at the end of a chunk and the LF that starts the next for two line ends', () => {
    // "event: content_block_delta\r" + "\ndata: ..." must stay one event, not an empty one.
    const o = new SseObserver('anthropic');
    o.push(Buffer.from('event: message_start\r'));
    o.push(Buffer.from('\ndata: {"type":"message_start","message":{"usage":{"input_tokens":4,"output_tokens":1}}}\r\n\r\n'));
    expect(o.usage.input).toBe(4);
  });

  it('is not complete without message_stop, and keeps the usage seen so far', () => {
    const cut = anthropicStream.slice(0, anthropicStream.indexOf('event: message_delta'));
    const o = observe('anthropic', cut, 16);
    expect(o.complete).toBe(false);
    expect(o.usage).toEqual({ input: 15, output: 1, cacheRead: 7, cacheWrite: 3 });
  });

  it('reads the event type without a space after the colon, and when the event line comes after others', () => {
    const o = new SseObserver('anthropic');
    o.push(Buffer.from('event:message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":9}}}\n\n'));
    o.push(Buffer.from('id: 7\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'));
    expect(o.usage.input).toBe(9);
    expect(o.complete).toBe(true);
  });

  it('joins a data field spread over several lines', () => {
    const o = new SseObserver('anthropic');
    o.push(Buffer.from('event: message_delta\ndata: {"type":"message_delta",\ndata: "usage":{"output_tokens":33}}\n\n'));
    expect(o.usage.output).toBe(33);
  });

  it('notes an error event and stays incomplete', () => {
    const o = observe('anthropic', 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n', 10);
    expect(o.upstreamError).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(o.complete).toBe(false);
  });

  it('ignores events whose data is not JSON', () => {
    const o = observe('anthropic', 'event: message_start\ndata: {not json\n\nevent: message_stop\ndata: {}\n\n', 4);
    expect(o.usage).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
    expect(o.complete).toBe(true);
  });

  it.each([1, 3, 100_000])('reads usage and [DONE] of an OpenAI stream cut every %i bytes', (size) => {
    const o = observe('openai', openaiStream, size);
    expect(o.usage).toEqual({ input: 12, output: 5, cacheRead: 8, cacheWrite: 0 });
    expect(o.complete).toBe(true);
    expect(o.firstTokenAt).toBeTypeOf('number');
  });

  it('times the first token of an OpenAI stream at the first chunk with output, not at the role chunk', () => {
    const o = new SseObserver('openai');
    o.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'));
    o.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"content":null}}]}\n\n'));
    expect(o.firstTokenAt).toBeUndefined();
    o.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'));
    expect(o.firstTokenAt).toBeTypeOf('number');
    const tools = new SseObserver('openai');
    tools.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":""}}]}}]}\n\n'));
    expect(tools.firstTokenAt).toBeTypeOf('number');
  });

  it('reads an OpenAI data line that follows another field, and an error chunk', () => {
    const o = new SseObserver('openai');
    o.push(Buffer.from('id: 1\ndata: {"error":{"type":"server_error","message":"boom"}}\n\n'));
    expect(o.upstreamError).toEqual({ type: 'server_error', message: 'boom' });
    expect(o.complete).toBe(false);
  });

  it('reads the 1-hour share of an Anthropic stream\'s cache writes', () => {
    const o = new SseObserver('anthropic');
    o.push(Buffer.from('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_creation_input_tokens":1500,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":500},"cache_read_input_tokens":0,"output_tokens":1}}}\n\n'));
    o.push(Buffer.from('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'));
    expect(o.usage).toEqual({ input: 10, output: 42, cacheRead: 0, cacheWrite: 1500, cacheWrite1h: 500 });
  });

  it('reads OpenAI usage written with spaces (Python servers\' json.dumps)', () => {
    const o = new SseObserver('openai');
    o.push(Buffer.from('data: {"id": "x", "choices": [], "usage": null}\n\n'));
    o.push(Buffer.from('data: {"id": "x", "choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}\n\ndata: [DONE]\n\n'));
    expect(o.usage).toMatchObject({ input: 100, output: 20 });
    expect(o.complete).toBe(true);
  });

  it.each([
    ['anthropic', 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"é"}}\n\n'],
    ['openai', 'data: {"choices":[{"delta":{"content":"é"}}]}\n\n'],
  ] as const)('keeps only the unfinished event between chunks (%s)', (format, delta) => {
    const o = new SseObserver(format);
    // what is held between chunks: bytes for an Anthropic stream, text otherwise
    const held = () => {
      const x = o as unknown as { pending?: Buffer; buf: string };
      return format === 'anthropic' ? (x.pending?.toString() ?? '') : x.buf;
    };
    const cut = 30;
    o.push(Buffer.from(delta.slice(0, cut)));
    for (let i = 0; i < 1000; i++) {
      // The rest of the previous event, a whole one, and the start of the next.
      o.push(Buffer.from(delta.slice(cut) + delta + delta.slice(0, cut)));
      expect(held()).toBe(delta.slice(0, cut));
    }
    o.push(Buffer.from(delta.slice(cut)));
    expect(held()).toBe('');
    expect(o.firstTokenAt).toBeTypeOf('number');
  });

  it('finds a blank line split between two chunks, and an event line after other fields', () => {
    const o = new SseObserver('anthropic');
    o.push(Buffer.from('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":5}}}\n'));
    expect(o.usage.input).toBe(0); // not ended yet
    o.push(Buffer.from('\nid: 1\nevent: message_stop  \ndata: {}\n\n'));
    expect(o.usage.input).toBe(5);
    expect(o.complete).toBe(true);
  });

  it('moves to the text path when CR line ends start mid-stream, keeping a character cut between chunks', () => {
    const o = new SseObserver('anthropic');
    const start = Buffer.from('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":6}},"x":"é"}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":2},"y":"é');
    // cut inside the two bytes of the last é: the held bytes end with half a character
    o.push(start.subarray(0, start.length - 1));
    o.push(Buffer.concat([start.subarray(start.length - 1), Buffer.from('"}\r\n\r\nevent: message_stop\r\ndata: {}\r\n\r\n')]));
    expect(o.usage).toMatchObject({ input: 6, output: 2 });
    expect(o.complete).toBe(true);
  });
});
