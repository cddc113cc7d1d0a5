import type { FakeReply } from './types.js';
import { chunks, fakeId, usageOf } from './usage.js';

/** OpenAI Chat Completions rendering of a fake reply: one JSON completion, or its SSE chunks. */
export function openaiCompletion(reply: FakeReply, req: { model?: string }, requestBody: unknown): Record<string, unknown> {
  const u = usageOf(reply, requestBody);
  const toolCalls = (reply.toolUse ?? []).map((t) => ({ id: t.id ?? fakeId('call'), type: 'function', function: { name: t.name, arguments: JSON.stringify(t.input) } }));
  return {
    id: fakeId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: reply.model ?? req.model ?? 'gpt-fake',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.text ?? (toolCalls.length ? null : ''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}), refusal: null },
        finish_reason: finishReason(reply),
        logprobs: null,
      },
    ],
    usage: usageOpenAI(u),
  };
}

function finishReason(reply: FakeReply): string {
  if (reply.stopReason === 'max_tokens') return 'length';
  return reply.toolUse?.length ? 'tool_calls' : 'stop';
}

function usageOpenAI(u: ReturnType<typeof usageOf>): Record<string, unknown> {
  const prompt = u.input_tokens + u.cache_read_input_tokens;
  return { prompt_tokens: prompt, completion_tokens: u.output_tokens, total_tokens: prompt + u.output_tokens, prompt_tokens_details: { cached_tokens: u.cache_read_input_tokens } };
}

/** `data:` lines of a streamed completion, ending with `[DONE]`. */
export function openaiStreamEvents(reply: FakeReply, req: { model?: string }, requestBody: unknown, includeUsage: boolean): string[] {
  const full = openaiCompletion(reply, req, requestBody) as { id: string; created: number; model: string; usage: Record<string, unknown> };
  const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model };
  // as OpenAI does: with include_usage every chunk but the last carries "usage": null
  const line = (choices: unknown[], extra: Record<string, unknown> = includeUsage ? { usage: null } : {}) => `data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`;
  const out: string[] = [line([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])];
  if (reply.text) for (const c of chunks(reply.text, reply.chunkSize ?? 16)) out.push(line([{ index: 0, delta: { content: c }, finish_reason: null }]));
  (reply.toolUse ?? []).forEach((t, i) => {
    const id = t.id ?? fakeId('call');
    out.push(line([{ index: 0, delta: { tool_calls: [{ index: i, id, type: 'function', function: { name: t.name, arguments: '' } }] }, finish_reason: null }]));
    for (const c of chunks(JSON.stringify(t.input), reply.chunkSize ?? 16)) {
      out.push(line([{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: c } }] }, finish_reason: null }]));
    }
  });
  out.push(line([{ index: 0, delta: {}, finish_reason: finishReason(reply) }]));
  if (includeUsage) out.push(line([], { usage: full.usage }));
  out.push('data: [DONE]\n\n');
  return out;
}

export function openaiError(status: number, message: string): Record<string, unknown> {
  const type = status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } };
}
