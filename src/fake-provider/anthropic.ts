import type { FakeReply } from './types.js';
import { chunks, fakeId, usageOf } from './usage.js';

/** Anthropic Messages API rendering of a fake reply: one JSON message, or its SSE events. */
export function anthropicMessage(reply: FakeReply, req: { model?: string }, requestBody: unknown): Record<string, unknown> {
  const usage = usageOf(reply, requestBody);
  const content: Record<string, unknown>[] = [];
  if (reply.thinking) content.push({ type: 'thinking', thinking: reply.thinking, signature: 'fake-signature' });
  if (reply.text !== undefined || !reply.toolUse?.length) content.push({ type: 'text', text: reply.text ?? '' });
  for (const t of reply.toolUse ?? []) content.push({ type: 'tool_use', id: t.id ?? fakeId('toolu'), name: t.name, input: t.input });
  return {
    id: fakeId('msg'),
    type: 'message',
    role: 'assistant',
    model: reply.model ?? req.model ?? 'claude-fake',
    content,
    stop_reason: reply.stopReason ?? (reply.toolUse?.length ? 'tool_use' : 'end_turn'),
    stop_sequence: null,
    usage,
  };
}

/** The SSE event sequence of a streamed message, as `event:`/`data:` frames. */
export function anthropicStreamEvents(reply: FakeReply, req: { model?: string }, requestBody: unknown): string[] {
  const msg = anthropicMessage(reply, req, requestBody) as { id: string; model: string; content: Record<string, unknown>[]; stop_reason: string; usage: Record<string, number> };
  const frame = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const size = reply.chunkSize ?? 16;
  const events: string[] = [
    frame('message_start', {
      message: { id: msg.id, type: 'message', role: 'assistant', model: msg.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...msg.usage, output_tokens: 1 } },
    }),
  ];
  msg.content.forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push(frame('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      for (const c of chunks(String(block.thinking), size)) events.push(frame('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: c } }));
      events.push(frame('content_block_delta', { index, delta: { type: 'signature_delta', signature: String(block.signature) } }));
    } else if (block.type === 'text') {
      events.push(frame('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const c of chunks(String(block.text), size)) events.push(frame('content_block_delta', { index, delta: { type: 'text_delta', text: c } }));
    } else {
      events.push(frame('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      for (const c of chunks(JSON.stringify(block.input), size)) events.push(frame('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: c } }));
    }
    events.push(frame('content_block_stop', { index }));
  });
  // message_delta usage is cumulative: the final output token count.
  events.push(frame('message_delta', { delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage: { output_tokens: msg.usage.output_tokens } }));
  events.push(frame('message_stop', {}));
  return events;
}

export function anthropicError(status: number, message: string): Record<string, unknown> {
  const type =
    status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status === 401 ? 'authentication_error' : status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
  return { type: 'error', error: { type, message } };
}
