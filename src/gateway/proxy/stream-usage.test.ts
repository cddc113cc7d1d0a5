import { describe, expect, it } from 'vitest';
import { withoutUsageChunk, withStreamUsage } from './stream-usage.js';

describe('asking for stream usage on the client\'s behalf', () => {
  it('adds stream_options as the last member, keeping the rest as sent', () => {
    expect(withStreamUsage('{"model":"gpt-4o","n":12345678901234567890,"stream":true}\n')).toBe('{"model":"gpt-4o","n":12345678901234567890,"stream":true,"stream_options":{"include_usage":true}}\n');
    expect(withStreamUsage('{ }')).toBe('{"stream_options":{"include_usage":true}}');
    expect(JSON.parse(withStreamUsage('{\n  "stream": true\n}\n') as string)).toEqual({ stream: true, stream_options: { include_usage: true } });
  });

  it('takes out the usage chunk and the "usage":null of the others; other bytes stay', () => {
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
    const asked = chunk({ id: 'c', choices: [{ index: 0, delta: { content: ',"usage":null}' } }], usage: null }) + chunk({ id: 'c', choices: [], usage: { prompt_tokens: 3 } }) + 'data: [DONE]\n\n';
    const plain = chunk({ id: 'c', choices: [{ index: 0, delta: { content: ',"usage":null}' } }] }) + 'data: [DONE]\n\n';
    expect(withoutUsageChunk(Buffer.from(asked)).toString()).toBe(plain);
    // Azure's first chunk has no choices and no usage: it stays
    const azure = chunk({ id: '', choices: [], prompt_filter_results: [] });
    expect(withoutUsageChunk(Buffer.from(azure)).toString()).toBe(azure);
  });
});
