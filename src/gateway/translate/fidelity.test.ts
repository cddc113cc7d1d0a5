import { describe, expect, it } from 'vitest';
import { anthropicToOpenaiRequest, openaiErrorToAnthropic, openaiToAnthropicResponse } from './anthropic-to-openai.js';
import { OpenaiToAnthropicStream } from './anthropic-to-openai-stream.js';
import { anthropicToOpenaiResponse, JSON_TOOL, openaiToAnthropicRequest } from './openai-to-anthropic.js';
import { AnthropicToOpenaiStream } from './openai-to-anthropic-stream.js';

type Obj = Record<string, unknown>;
const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const event = (o: { type: string }) => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;

/** Anthropic events of a translated stream in order, and the blocks as a client that reads each tool's input at its stop would see them. */
function readAnthropic(sse: string) {
  const events: Obj[] = [];
  for (const frame of sse.split('\n\n')) {
    const data = frame.split('\n').find((l) => l.startsWith('data: '));
    if (data) events.push(JSON.parse(data.slice(6)) as Obj);
  }
  const blocks: { type: string; id?: string; name?: string; text: string; json: string; inputAtStop?: unknown }[] = [];
  let open: number | undefined;
  let stop: Obj | undefined;
  for (const e of events) {
    const i = e.index as number;
    if (e.type === 'content_block_start') {
      expect(open, 'a block starts while another is open').toBeUndefined();
      const b = e.content_block as { type: string; id?: string; name?: string };
      blocks[i] = { type: b.type, id: b.id, name: b.name, text: '', json: '' };
      open = i;
    } else if (e.type === 'content_block_delta') {
      expect(i, 'a delta for a block that is not open').toBe(open);
      const d = e.delta as { text?: string; partial_json?: string };
      blocks[i]!.text += d.text ?? '';
      blocks[i]!.json += d.partial_json ?? '';
    } else if (e.type === 'content_block_stop') {
      expect(i).toBe(open);
      const b = blocks[i]!;
      if (b.type === 'tool_use') b.inputAtStop = JSON.parse(b.json || '{}');
      open = undefined;
    } else if (e.type === 'message_delta') stop = e.delta as Obj;
  }
  return { events, blocks, stop };
}

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('OpenAI-format streams as Anthropic streams', () => {
  it('parallel calls that all come at index 0 with their own ids (Ollama, Grok) stay separate calls', () => {
    const t = new OpenaiToAnthropicStream('claude');
    let out = t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_a', function: { name: 'read_file', arguments: '{"path":"a"}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_b', function: { name: 'list_dir', arguments: '{"dir":"b"}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }) + 'data: [DONE]\n\n'));
    const { blocks, stop } = readAnthropic(out);
    expect(blocks.map((b) => [b.id, b.name, b.inputAtStop])).toEqual([
      ['call_a', 'read_file', { path: 'a' }],
      ['call_b', 'list_dir', { dir: 'b' }],
    ]);
    expect(stop?.stop_reason).toBe('tool_use');
  });

  it('calls of a batch sent whole at one index without ids, or with empty ids (Gemini behind proxies), stay separate calls with ids of their own', () => {
    for (const shape of [{ index: 0 }, { id: '' }]) {
      const t = new OpenaiToAnthropicStream('claude');
      let out = t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ ...shape, function: { name: 'a', arguments: '{"x":1}' } }] } }] })));
      out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ ...shape, function: { name: 'b', arguments: '{"y":2}' } }] } }] })));
      out += t.push(Buffer.from(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }) + 'data: [DONE]\n\n'));
      const { blocks } = readAnthropic(out);
      // was: one call "a" with {"x":1}{"y":2}, which the Anthropic SDK could not parse
      expect(blocks.map((b) => [b.name, b.inputAtStop]), JSON.stringify(shape)).toEqual([
        ['a', { x: 1 }],
        ['b', { y: 2 }],
      ]);
      expect(blocks.every((b) => /^toolu_\w{24}$/.test(b.id ?? '')), JSON.stringify(shape)).toBe(true);
      expect(new Set(blocks.map((b) => b.id)).size).toBe(2);
    }
  });

  it('text that comes between a call\'s pieces of arguments waits for them: the call\'s block is whole at its stop', () => {
    const t = new OpenaiToAnthropicStream('claude');
    let out = t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'a', arguments: '' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { content: 'thinking out loud' } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '1}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }) + 'data: [DONE]\n\n'));
    // readAnthropic fails on a delta for a block already stopped (was: the call stopped at {"x":, its 1} after)
    const { blocks } = readAnthropic(out);
    expect(blocks.map((b) => [b.type, b.type === 'text' ? b.text : b.inputAtStop])).toEqual([
      ['tool_use', { x: 1 }],
      ['text', 'thinking out loud'],
    ]);
  });

  it('interleaved calls (both started, then both arguments) come out one block after another, each whole at its stop', () => {
    const t = new OpenaiToAnthropicStream('claude');
    let out = t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_a', function: { name: 'a', arguments: '' } }, { index: 1, id: 'call_b', function: { name: 'b', arguments: '' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":' } }, { index: 1, function: { arguments: '{"y":2}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '1}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }) + 'data: [DONE]\n\n'));
    const { blocks } = readAnthropic(out);
    expect(blocks.map((b) => [b.name, b.inputAtStop])).toEqual([
      ['a', { x: 1 }],
      ['b', { y: 2 }],
    ]);
  });

  it('a refusal is shown as text with stop_reason "refusal"', () => {
    const t = new OpenaiToAnthropicStream('claude');
    const out = t.push(Buffer.from(chunk({ choices: [{ delta: { role: 'assistant', refusal: "I can't help" } }] }) + chunk({ choices: [{ delta: {}, finish_reason: 'stop' }] }) + 'data: [DONE]\n\n'));
    const { blocks, stop } = readAnthropic(out);
    expect(blocks).toEqual([expect.objectContaining({ type: 'text', text: "I can't help" })]);
    expect(stop?.stop_reason).toBe('refusal');
  });

  it('a stop string the provider names (vLLM) is reported as stop_sequence when the client asked for it', () => {
    const t = new OpenaiToAnthropicStream('claude', { stop_sequences: ['END'] });
    const out = t.push(Buffer.from(chunk({ choices: [{ delta: { content: 'hi' } }] }) + chunk({ choices: [{ delta: {}, finish_reason: 'stop', stop_reason: 'END' }] }) + 'data: [DONE]\n\n'));
    expect(readAnthropic(out).stop).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
  });

  it('an error event keeps its kind: a rate limit mid-stream is a rate_limit_error', () => {
    const t = new OpenaiToAnthropicStream('claude');
    const out = t.push(Buffer.from(chunk({ choices: [{ delta: { content: 'a' } }] }) + chunk({ error: { message: 'slow down', type: 'rate_limit_exceeded' } })));
    expect(readAnthropic(out).events.at(-1)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    expect(t.complete).toBe(false);
  });
});

describe('OpenAI-format answers as Anthropic answers', () => {
  it('a refusal is the text, with stop_reason "refusal"', () => {
    const m = openaiToAnthropicResponse({ choices: [{ message: { content: null, refusal: "I'm sorry, I can't help with that." }, finish_reason: 'stop' }] }, 'claude');
    expect(m).toMatchObject({ content: [{ type: 'text', text: "I'm sorry, I can't help with that." }], stop_reason: 'refusal' });
  });

  it('a 200 that is no completion throws (the gateway answers 502)', () => {
    expect(() => openaiToAnthropicResponse({ object: 'list', data: [] }, 'claude')).toThrow(/choices/);
    expect(() => anthropicToOpenaiResponse({ type: 'list' }, 'gpt')).toThrow(/content/);
  });

  it('tool arguments cut off by the token limit are left out, not run with {}; unreadable ones otherwise throw', () => {
    const cut = openaiToAnthropicResponse({ choices: [{ message: { content: 'running', tool_calls: [{ id: 'c', function: { name: 'Bash', arguments: '{"command": "rm -rf build' } }] }, finish_reason: 'length' }] }, 'claude');
    expect(cut).toMatchObject({ content: [{ type: 'text', text: 'running' }], stop_reason: 'max_tokens' });
    expect(() => openaiToAnthropicResponse({ choices: [{ message: { content: null, tool_calls: [{ id: 'c', function: { name: 'Bash', arguments: '{"command' } }] }, finish_reason: 'tool_calls' }] }, 'claude')).toThrow(/arguments/);
  });

  it('tool calls without an id, or with an empty one, get ids of their own (the client answers each tool_use by its id)', () => {
    const m = openaiToAnthropicResponse({ choices: [{ message: { content: null, tool_calls: [{ function: { name: 'a', arguments: '{"x":1}' } }, { id: '', function: { name: 'b', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] }, 'claude') as { content: { type: string; id?: string }[] };
    const ids = m.content.filter((c) => c.type === 'tool_use').map((c) => c.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^toolu_\w{24}$/);
    expect(new Set(ids).size).toBe(2);
  });

  it('error bodies of other OpenAI-format providers keep their message and kind', () => {
    expect(openaiErrorToAnthropic(404, '{"error":"model \\"llama9\\" not found"}')).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'model "llama9" not found' } });
    expect(openaiErrorToAnthropic(400, '{"object":"error","message":"max_tokens too large","type":"BadRequestError"}')).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens too large' } });
    expect(openaiErrorToAnthropic(429, '{"error":{"message":"quota","type":"insufficient_quota"}}').error).toMatchObject({ type: 'rate_limit_error' });
  });
});

describe('Anthropic requests to an OpenAI-format provider', () => {
  const user = (content: unknown) => ({ model: 'x', max_tokens: 10, messages: [{ role: 'user', content }] });

  it('images a tool returned go in a user message right after the tool messages', () => {
    const img = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } };
    const out = anthropicToOpenaiRequest(
      {
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: { file: 'a.png' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'see image' }, img] }] },
        ],
      },
      'gpt-4o',
    );
    const msgs = out.messages as Obj[];
    expect(msgs.map((m) => m.role)).toEqual(['assistant', 'tool', 'user']);
    expect(msgs[1]).toMatchObject({ role: 'tool', tool_call_id: 't1', content: 'see image' });
    expect(msgs[2]?.content).toEqual([{ type: 'text', text: 'Image returned by tool call t1:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } }]);
  });

  it('documents a tool returned (Claude Code reading a PDF) go in the user message after the tool messages; one that cannot go is refused naming it', () => {
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } };
    const body = { max_tokens: 10, messages: [
      { role: 'user', content: 'read it' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: 'a.pdf' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [pdf] }] },
    ] };
    const out = anthropicToOpenaiRequest(body, 'gpt-4o') as { messages: { role: string; content: unknown }[] };
    // was: {"role":"tool","content":""} and nothing else: the model never saw the file
    expect(out.messages.slice(-2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: '' },
      { role: 'user', content: [{ type: 'text', text: 'Document returned by tool call toolu_1:' }, { type: 'file', file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' } }] },
    ]);
    const byUrl = { ...body, messages: [...body.messages.slice(0, 2), { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] }] }] };
    expect(refusal(() => anthropicToOpenaiRequest(byUrl, 'gpt-4o'))).toMatchObject({ status: 400, opts: { field: 'messages.2.content.0.content.0' } });
  });

  it('documents: text becomes text, a base64 PDF a file part, a PDF by URL is refused naming the block', () => {
    const out = anthropicToOpenaiRequest(user([{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'The secret is 42.' } }, { type: 'document', title: 'spec', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } }, { type: 'text', text: 'What is the secret?' }]), 'gpt-4o');
    expect((out.messages as Obj[])[0]?.content).toEqual([
      { type: 'text', text: 'The secret is 42.' },
      { type: 'file', file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBER' } },
      { type: 'text', text: 'What is the secret?' },
    ]);
    expect(refusal(() => anthropicToOpenaiRequest(user([{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }]), 'gpt-4o'))).toMatchObject({ status: 400, opts: { field: 'messages.0.content.0' } });
  });

  it('an assistant turn of thinking alone is "" (never null without tool calls)', () => {
    const out = anthropicToOpenaiRequest({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 's' }] }, { role: 'user', content: 'go on' }] }, 'gpt-4o');
    expect((out.messages as Obj[])[1]).toEqual({ role: 'assistant', content: '' });
  });

  it('o-series and GPT-5 get no sampling parameters and refuse stop sequences (their 400 said here); more than 4 stop sequences are refused', () => {
    const body = { ...user('hi'), temperature: 0.2, top_p: 0.9 };
    expect(anthropicToOpenaiRequest(body, 'gpt-5-mini')).not.toHaveProperty('temperature');
    expect(anthropicToOpenaiRequest(body, 'o3')).not.toHaveProperty('top_p');
    // was: sent as `stop`, and o3 / o4-mini answered 400 "Unsupported parameter: 'stop'"
    expect(refusal(() => anthropicToOpenaiRequest({ ...body, stop_sequences: ['END'] }, 'o3-mini'))).toMatchObject({ status: 400, opts: { field: 'body.stop_sequences' } });
    expect(anthropicToOpenaiRequest({ ...body, stop_sequences: ['a'] }, 'gpt-4o')).toMatchObject({ temperature: 0.2, top_p: 0.9, max_tokens: 10, stop: ['a'] });
    expect(refusal(() => anthropicToOpenaiRequest({ ...body, stop_sequences: ['a', 'b', 'c', 'd', 'e'] }, 'gpt-4o'))).toMatchObject({ status: 400, opts: { field: 'body.stop_sequences' } });
  });

  it('server tools (web search) are refused naming the tool, not dropped', () => {
    const body = { ...user('search'), tools: [{ type: 'web_search_20250305', name: 'web_search' }, { name: 'f', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'web_search' } };
    expect(refusal(() => anthropicToOpenaiRequest(body, 'gpt-4o'))).toMatchObject({ status: 400, code: 'unsupported_tool', opts: { field: 'body.tools.0' } });
  });
});

describe('OpenAI requests to an Anthropic provider', () => {
  const base = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };

  it('empty turns and empty text parts are left out; unsupported parts are refused', () => {
    const out = openaiToAnthropicRequest({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: '' }, { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'b' }] }] }, 'claude');
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }] },
      { role: 'user', content: [{ type: 'text', text: 'b' }] },
    ]);
    expect(refusal(() => openaiToAnthropicRequest({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'claude'))).toMatchObject({ status: 400, opts: { field: 'messages.0.content.0' } });
  });

  it('a PDF file part becomes a document block; a file id is refused', () => {
    const out = openaiToAnthropicRequest({ messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBER' } }, { type: 'text', text: 'summarise' }] }] }, 'claude');
    expect((out.messages as Obj[])[0]?.content).toEqual([
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' }, title: 'a.pdf' },
      { type: 'text', text: 'summarise' },
    ]);
    expect(refusal(() => openaiToAnthropicRequest({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }, 'claude'))).toMatchObject({ status: 400 });
  });

  it('whitespace-only stops are left out; top_p beside a temperature is left out (Claude 4.5 and later refuse the two together)', () => {
    const out = openaiToAnthropicRequest({ ...base, stop: ['\n', 'END'], temperature: 0.7, top_p: 1 }, 'claude');
    expect(out.stop_sequences).toEqual(['END']);
    expect(out).not.toHaveProperty('top_p');
    // was: both sent, and Claude Sonnet 4.5 answered 400 "temperature and top_p cannot both be specified"
    expect(openaiToAnthropicRequest({ ...base, temperature: 0.7, top_p: 0.9 }, 'claude')).toMatchObject({ temperature: 0.7 });
    expect(openaiToAnthropicRequest({ ...base, temperature: 0.7, top_p: 0.9 }, 'claude')).not.toHaveProperty('top_p');
    expect(openaiToAnthropicRequest({ ...base, stop: '\n' }, 'claude')).not.toHaveProperty('stop_sequences');
    expect(openaiToAnthropicRequest({ ...base, top_p: 0.5 }, 'claude').top_p).toBe(0.5);
  });

  it('response_format asks for JSON through a forced tool, and the answer comes back as content', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const req = { ...base, response_format: { type: 'json_schema', json_schema: { name: 'place', schema } } };
    const out = openaiToAnthropicRequest(req, 'claude');
    expect(out.tools).toEqual([expect.objectContaining({ name: JSON_TOOL, input_schema: schema })]);
    expect(out.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL });
    expect(openaiToAnthropicRequest({ ...base, response_format: { type: 'json_object' } }, 'claude').tool_choice).toEqual({ type: 'tool', name: JSON_TOOL });
    const answer = anthropicToOpenaiResponse({ id: 'msg_1', content: [{ type: 'tool_use', id: 't', name: JSON_TOOL, input: { city: 'Rome' } }], stop_reason: 'tool_use', usage: { input_tokens: 1, output_tokens: 2 } }, 'gpt', req);
    expect((answer.choices as Obj[])[0]).toMatchObject({ message: { role: 'assistant', content: '{"city":"Rome"}' }, finish_reason: 'stop' });
    expect(refusal(() => openaiToAnthropicRequest({ ...req, tools: [{ type: 'function', function: { name: 'f' } }] }, 'claude'))).toMatchObject({ status: 400, opts: { field: 'body.response_format' } });
    // streamed: the tool's input arrives as content
    const t = new AnthropicToOpenaiStream('gpt', false, true);
    const sse =
      event({ type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 1 } } } as { type: string }) +
      event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't', name: JSON_TOOL, input: {} } } as { type: string }) +
      event({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } } as { type: string }) +
      event({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '"Rome"}' } } as { type: string }) +
      event({ type: 'content_block_stop', index: 0 } as { type: string }) +
      event({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } } as { type: string }) +
      event({ type: 'message_stop' });
    const chunks = t.push(Buffer.from(sse)).split('\n\n').filter((f) => f.startsWith('data: {')).map((f) => JSON.parse(f.slice(6)) as { choices: { delta: { content?: string; tool_calls?: unknown }; finish_reason: string | null }[] });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('{"city":"Rome"}');
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('a streamed call without input gets arguments "{}", which parses', () => {
    const t = new AnthropicToOpenaiStream('gpt', false);
    const sse =
      event({ type: 'message_start', message: { id: 'msg_1', usage: {} } } as { type: string }) +
      event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't', name: 'now', input: {} } } as { type: string }) +
      event({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } } as { type: string }) +
      event({ type: 'content_block_stop', index: 0 } as { type: string }) +
      event({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } } as { type: string }) +
      event({ type: 'message_stop' });
    const chunks = t.push(Buffer.from(sse)).split('\n\n').filter((f) => f.startsWith('data: {')).map((f) => JSON.parse(f.slice(6)) as { choices: { delta: { tool_calls?: { function: { arguments?: string } }[] } }[] });
    const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((c) => c.function.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({});
  });
});

describe("Gemini 3's tool call signatures (extra_content.google.thought_signature)", () => {
  const sig = 'CiQBjz1rX+signature/with+base64==';
  const nextTurn = (toolUseId: string) => ({
    max_tokens: 10,
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: toolUseId, name: 'a', input: { x: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUseId, content: 'done' }] },
    ],
  });

  it('go back with their calls on the next turn, answered whole or streamed (was: dropped, and Gemini refused the turn)', () => {
    const answered = openaiToAnthropicResponse({ choices: [{ message: { content: null, tool_calls: [{ id: 'function-call-1', type: 'function', function: { name: 'a', arguments: '{"x":1}' }, extra_content: { google: { thought_signature: sig } } }] }, finish_reason: 'tool_calls' }] }, 'claude') as { content: { type: string; id: string }[] };
    const t = new OpenaiToAnthropicStream('claude');
    // the signature alone ahead of its call, as Gemini sends it at times
    let out = t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ extra_content: { google: { thought_signature: sig } } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'function-call-1', function: { name: 'a', arguments: '{"x":1}' } }] } }] })));
    out += t.push(Buffer.from(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }) + 'data: [DONE]\n\n'));
    const { blocks } = readAnthropic(out);
    // no nameless call made of the lone signature
    expect(blocks.map((b) => b.name)).toEqual(['a']);
    for (const id of [answered.content.find((c) => c.type === 'tool_use')?.id as string, blocks[0]?.id as string]) {
      expect(id).toMatch(/^[\w-]+$/);
      const upstream = anthropicToOpenaiRequest(nextTurn(id), 'gemini-3-pro-preview') as { messages: { role: string; tool_calls?: unknown[]; tool_call_id?: string }[] };
      expect(upstream.messages[1]?.tool_calls).toEqual([{ id: 'function-call-1', type: 'function', function: { name: 'a', arguments: '{"x":1}' }, extra_content: { google: { thought_signature: sig } } }]);
      expect(upstream.messages[2]).toMatchObject({ role: 'tool', tool_call_id: 'function-call-1' });
    }
  });

  it('leave ids of calls without one as they were', () => {
    const upstream = anthropicToOpenaiRequest(nextTurn('toolu_abc'), 'gpt-4o') as { messages: { tool_calls?: Record<string, unknown>[] }[] };
    expect(upstream.messages[1]?.tool_calls?.[0]).toEqual({ id: 'toolu_abc', type: 'function', function: { name: 'a', arguments: '{"x":1}' } });
  });
});

