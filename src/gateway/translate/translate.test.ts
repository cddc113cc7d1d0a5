import { describe, expect, it } from 'vitest';
import { openaiToAnthropicResponse } from './anthropic-to-openai.js';
import { OpenaiToAnthropicStream } from './anthropic-to-openai-stream.js';
import { openaiToAnthropicRequest } from './openai-to-anthropic.js';

const tools = [{ type: 'function', function: { name: 'read', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }];

/** The Anthropic events of a translated stream, as the SDK would accumulate them into content blocks. */
function assemble(sse: string): { blocks: { type: string; name?: string; id?: string; json: string; text: string }[]; stop: unknown } {
  const blocks: { type: string; name?: string; id?: string; json: string; text: string }[] = [];
  let stop: unknown;
  for (const frame of sse.split('\n\n')) {
    const data = frame.split('\n').find((l) => l.startsWith('data: '));
    if (!data) continue;
    const e = JSON.parse(data.slice(6)) as { type: string; index: number; content_block?: { type: string; name?: string; id?: string }; delta?: { partial_json?: string; text?: string; stop_reason?: string } };
    if (e.type === 'content_block_start' && e.content_block) blocks[e.index] = { type: e.content_block.type, name: e.content_block.name, id: e.content_block.id, json: '', text: '' };
    if (e.type === 'content_block_delta') {
      const b = blocks[e.index] as { json: string; text: string };
      b.json += e.delta?.partial_json ?? '';
      b.text += e.delta?.text ?? '';
    }
    if (e.type === 'message_delta') stop = e.delta?.stop_reason;
  }
  return { blocks, stop };
}

describe('OpenAI-format answers as Anthropic answers', () => {
  it('streamed tool calls without an index (Gemini) stay separate calls, and the answer asks for the tools', () => {
    const t = new OpenaiToAnthropicStream('claude-sonnet-4-5');
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
    let out = t.push(Buffer.from(chunk({ id: 'c1', choices: [{ delta: { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ id: 'c1', choices: [{ delta: { tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'glob', arguments: '{"pattern":"*"}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ id: 'c1', choices: [{ delta: {}, finish_reason: 'stop' }] }) + 'data: [DONE]\n\n'));
    const { blocks, stop } = assemble(out);
    expect(blocks.map((b) => [b.type, b.id, b.name, JSON.parse(b.json)])).toEqual([
      ['tool_use', 'call_1', 'read', { path: 'a' }],
      ['tool_use', 'call_2', 'glob', { pattern: '*' }],
    ]);
    expect(stop).toBe('tool_use');
    expect(t.complete).toBe(true);
  });

  it('streamed tool calls with an index (OpenAI) are assembled from their pieces', () => {
    const t = new OpenaiToAnthropicStream('claude-sonnet-4-5');
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
    let out = t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'read', arguments: '{"pa' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'th":"a"}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 1, id: 'call_2', function: { name: 'read', arguments: '{"path":"b"}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }) + 'data: [DONE]\n\n'));
    const { blocks, stop } = assemble(out);
    expect(blocks.map((b) => JSON.parse(b.json))).toEqual([{ path: 'a' }, { path: 'b' }]);
    expect(stop).toBe('tool_use');
  });

  it('a complete answer with tool calls and finish_reason "stop" asks for the tools', () => {
    const m = openaiToAnthropicResponse({ id: 'chatcmpl-1', choices: [{ message: { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } }] }, finish_reason: 'stop' }] }, 'claude-sonnet-4-5');
    expect(m).toMatchObject({ stop_reason: 'tool_use', content: [{ type: 'tool_use', id: 'call_1', name: 'read', input: { path: 'a' } }] });
    const plain = openaiToAnthropicResponse({ choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }] }, 'claude-sonnet-4-5');
    expect(plain).toMatchObject({ stop_reason: 'end_turn' });
  });
});

describe('OpenAI-format requests to an Anthropic provider', () => {
  it('refuses what an Anthropic model cannot give (n > 1, logprobs) with a 400 naming the field', () => {
    const base = { messages: [{ role: 'user', content: 'hi' }] };
    for (const [extra, field] of [[{ n: 3 }, 'body.n'], [{ logprobs: true }, 'body.logprobs'], [{ top_logprobs: 2 }, 'body.logprobs']] as const) {
      let err: unknown;
      try {
        openaiToAnthropicRequest({ ...base, ...extra }, 'claude-sonnet-4-5');
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ status: 400, code: 'unsupported_parameter', opts: { field } });
    }
    expect(() => openaiToAnthropicRequest({ ...base, n: 1, logprobs: false }, 'claude-sonnet-4-5')).not.toThrow();
  });

  it('parallel_tool_calls: false becomes disable_parallel_tool_use, with or without a tool_choice', () => {
    const base = { messages: [{ role: 'user', content: 'hi' }], tools };
    expect(openaiToAnthropicRequest({ ...base, parallel_tool_calls: false }, 'claude-sonnet-4-5').tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(openaiToAnthropicRequest({ ...base, parallel_tool_calls: false, tool_choice: 'required' }, 'claude-sonnet-4-5').tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(openaiToAnthropicRequest({ ...base, parallel_tool_calls: false, tool_choice: 'none' }, 'claude-sonnet-4-5').tool_choice).toEqual({ type: 'none' });
    expect(openaiToAnthropicRequest({ ...base, parallel_tool_calls: true }, 'claude-sonnet-4-5').tool_choice).toBeUndefined();
  });
});
