import { randomUUID } from 'node:crypto';
import { isJsonObject } from '../../core/json.js';
import { anthropicErrorType } from '../proxy/errors.js';
import { openaiUsage } from '../proxy/usage.js';
import { parseJson } from './sse.js';

/**
 * Anthropic client → OpenAI-format provider: the request body, the complete answer and the
 * error body. (Streams: anthropic-to-openai-stream.ts.)
 */
type Obj = Record<string, unknown>;
type Block = Obj & { type?: string };


/** Text of Anthropic content (a string or blocks). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is Block => isJsonObject(b) && b.type === 'text')
    .map((b) => String(b.text ?? ''))
    .join('\n');
}

function imagePart(b: Block): Obj | undefined {
  const src = b.source as Obj | undefined;
  if (!src) return undefined;
  if (src.type === 'base64') return { type: 'image_url', image_url: { url: `data:${String(src.media_type)};base64,${String(src.data)}` } };
  if (src.type === 'url') return { type: 'image_url', image_url: { url: String(src.url) } };
  return undefined;
}

/** Models that take `max_completion_tokens` instead of `max_tokens`. */
const COMPLETION_TOKENS_MODELS = /^(o\d|gpt-5)/;

export function anthropicToOpenaiRequest(b: Obj, model: string): Obj {
  const messages: Obj[] = [];
  const system = textOf(b.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const m of Array.isArray(b.messages) ? (b.messages as Obj[]) : []) {
    const role = String(m.role);
    if (typeof m.content === 'string') {
      messages.push({ role: role === 'system' ? 'system' : role, content: m.content });
      continue;
    }
    // content blocks that are not objects carry nothing to translate
    const blocks = Array.isArray(m.content) ? ((m.content as unknown[]).filter(isJsonObject) as Block[]) : [];
    if (role === 'assistant') {
      const toolCalls = blocks
        .filter((x) => x.type === 'tool_use')
        .map((x) => ({ id: String(x.id), type: 'function', function: { name: String(x.name), arguments: JSON.stringify(x.input ?? {}) } }));
      const text = textOf(blocks);
      messages.push({ role: 'assistant', content: text || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) });
      continue;
    }
    if (role === 'system') {
      messages.push({ role: 'system', content: textOf(blocks) });
      continue;
    }
    const parts: Obj[] = [];
    for (const x of blocks) {
      if (x.type === 'tool_result') {
        // Tool results become `tool` messages, which must directly follow the assistant's tool calls.
        const content = typeof x.content === 'string' ? x.content : textOf(x.content);
        messages.push({ role: 'tool', tool_call_id: String(x.tool_use_id), content: x.is_error ? `Error: ${content}` : content });
      } else if (x.type === 'text') parts.push({ type: 'text', text: String(x.text ?? '') });
      else if (x.type === 'image') {
        const p = imagePart(x);
        if (p) parts.push(p);
      }
    }
    if (parts.length) messages.push({ role: 'user', content: parts.length === 1 && parts[0]?.type === 'text' ? parts[0].text : parts });
  }
  const out: Obj = { model, messages };
  if (typeof b.max_tokens === 'number') out[COMPLETION_TOKENS_MODELS.test(model) ? 'max_completion_tokens' : 'max_tokens'] = b.max_tokens;
  if (b.temperature !== undefined) out.temperature = b.temperature;
  if (b.top_p !== undefined) out.top_p = b.top_p;
  if (Array.isArray(b.stop_sequences) && b.stop_sequences.length) out.stop = b.stop_sequences;
  if (b.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (Array.isArray(b.tools)) {
    const tools = (b.tools as Obj[]).filter((t) => t.input_schema).map((t) => ({ type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema } }));
    if (tools.length) out.tools = tools;
  }
  const tc = b.tool_choice as Obj | undefined;
  if (tc && out.tools) {
    if (tc.type === 'any') out.tool_choice = 'required';
    else if (tc.type === 'tool') out.tool_choice = { type: 'function', function: { name: tc.name } };
    else if (tc.type === 'none') out.tool_choice = 'none';
    else out.tool_choice = 'auto';
    if (tc.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  const user = (b.metadata as Obj | undefined)?.user_id;
  if (typeof user === 'string') out.user = user.slice(0, 64);
  return out;
}

export function stopReasonFromOpenai(r: unknown): string {
  if (r === 'length') return 'max_tokens';
  if (r === 'tool_calls' || r === 'function_call') return 'tool_use';
  if (r === 'content_filter') return 'refusal';
  return 'end_turn';
}

export function anthropicUsageFromOpenai(raw: unknown): Obj {
  const u = openaiUsage(raw) ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  return { input_tokens: u.input, output_tokens: u.output, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: 0 };
}

export function openaiToAnthropicResponse(c: unknown, clientModel: string): Obj {
  const r = (isJsonObject(c) ? c : {}) as { id?: string; choices?: { message?: { content?: unknown; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }; finish_reason?: unknown }[]; usage?: unknown };
  const choice = r.choices?.[0];
  const content: Obj[] = [];
  const text = typeof choice?.message?.content === 'string' ? choice.message.content : '';
  if (text || !choice?.message?.tool_calls?.length) content.push({ type: 'text', text });
  for (const t of choice?.message?.tool_calls ?? []) {
    const input = parseJson(t.function.arguments || '{}');
    content.push({ type: 'tool_use', id: t.id, name: t.function.name, input: isJsonObject(input) ? input : {} });
  }
  return {
    id: `msg_${(r.id ?? randomUUID()).replace(/^chatcmpl-/, '')}`,
    type: 'message',
    role: 'assistant',
    model: clientModel,
    content,
    // an answer with tool calls asks for them, whatever reason the provider gave (Gemini: "stop")
    stop_reason: content.some((b) => b.type === 'tool_use') && stopReasonFromOpenai(choice?.finish_reason) === 'end_turn' ? 'tool_use' : stopReasonFromOpenai(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageFromOpenai(r.usage),
  };
}

export function openaiErrorToAnthropic(status: number, text: string): Obj {
  const j = parseJson(text) as { error?: { message?: unknown } } | undefined;
  const message = typeof j?.error?.message === 'string' ? j.error.message : text.slice(0, 500) || `upstream error ${status}`;
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}
