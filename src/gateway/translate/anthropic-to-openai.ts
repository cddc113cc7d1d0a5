import { randomUUID } from 'node:crypto';
import { fromToolUseId, newToolUseId, signatureOf, toolUseIdWith } from './ids.js';
import { isJsonObject } from '../../core/json.js';
import { anthropicErrorType, GatewayError } from '../proxy/errors.js';
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

/**
 * A `document` block as OpenAI content parts: a text document as text, a base64 PDF as a `file`
 * part. What OpenAI cannot take (a PDF by URL, a file id) is refused rather than dropped: the
 * model would answer without having read it.
 */
function documentParts(b: Block, field: string): Obj[] {
  const src = (isJsonObject(b.source) ? b.source : {}) as Obj;
  const title = typeof b.title === 'string' && b.title ? `${b.title}\n\n` : '';
  if (src.type === 'text') return [{ type: 'text', text: `${title}${String(src.data ?? '')}` }];
  if (src.type === 'content') return [{ type: 'text', text: `${title}${textOf(src.content)}` }];
  if (src.type === 'base64' && src.media_type === 'application/pdf') {
    return [{ type: 'file', file: { filename: typeof b.title === 'string' && b.title ? `${b.title}.pdf` : 'document.pdf', file_data: `data:application/pdf;base64,${String(src.data ?? '')}` } }];
  }
  throw new GatewayError(400, 'unsupported_content', `${field}: a document with source type ${String(src.type)}${src.media_type ? ` (${String(src.media_type)})` : ''} cannot be sent to an OpenAI-format provider; send it as text or as a base64 PDF`, { field });
}

/** Models that take `max_completion_tokens` instead of `max_tokens`. */
const COMPLETION_TOKENS_MODELS = /^(o\d|gpt-5)/;
/** OpenAI's limit on stop sequences. */
const MAX_OPENAI_STOPS = 4;

export function anthropicToOpenaiRequest(b: Obj, model: string): Obj {
  const messages: Obj[] = [];
  const system = textOf(b.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const [i, m] of (Array.isArray(b.messages) ? (b.messages as Obj[]) : []).entries()) {
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
        .map((x) => {
          // a signature the provider gave the call (Gemini 3) goes back with it (ids.ts)
          const { id, signature } = fromToolUseId(String(x.id));
          return { id, type: 'function', function: { name: String(x.name), arguments: JSON.stringify(x.input ?? {}) }, ...(signature ? { extra_content: { google: { thought_signature: signature } } } : {}) };
        });
      const text = textOf(blocks);
      // null content only beside tool calls: a turn of thinking alone is "" (OpenAI refuses null there)
      messages.push({ role: 'assistant', content: text || (toolCalls.length ? null : ''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) });
      continue;
    }
    if (role === 'system') {
      messages.push({ role: 'system', content: textOf(blocks) });
      continue;
    }
    const parts: Obj[] = [];
    for (const [j, x] of blocks.entries()) {
      if (x.type === 'tool_result') {
        // Tool results become `tool` messages, which must directly follow the assistant's tool
        // calls. A `tool` message holds text only: images a tool returned (a screenshot, an image
        // file read) go in the user message that follows them.
        const content = typeof x.content === 'string' ? x.content : textOf(x.content);
        messages.push({ role: 'tool', tool_call_id: fromToolUseId(String(x.tool_use_id)).id, content: x.is_error ? `Error: ${content}` : content });
        const inner = Array.isArray(x.content) ? (x.content as unknown[]) : [];
        const images = inner.filter((c): c is Block => isJsonObject(c) && c.type === 'image').map(imagePart).filter((p): p is Obj => p !== undefined);
        if (images.length) parts.push({ type: 'text', text: `Image${images.length > 1 ? 's' : ''} returned by tool call ${String(x.tool_use_id)}:` }, ...images);
        // documents a tool returned (Claude Code's Read of a PDF) go there too: a `tool` message
        // holds text only, and dropped the model answered about a file it never saw
        const documents = inner.flatMap((c, k) => (isJsonObject(c) && c.type === 'document' ? documentParts(c as Block, `messages.${i}.content.${j}.content.${k}`) : []));
        if (documents.length) parts.push({ type: 'text', text: `Document${documents.length > 1 ? 's' : ''} returned by tool call ${String(x.tool_use_id)}:` }, ...documents);
      } else if (x.type === 'text') parts.push({ type: 'text', text: String(x.text ?? '') });
      else if (x.type === 'image') {
        const p = imagePart(x);
        if (p) parts.push(p);
      } else if (x.type === 'document') parts.push(...documentParts(x, `messages.${i}.content.${j}`));
    }
    if (parts.length) messages.push({ role: 'user', content: parts.length === 1 && parts[0]?.type === 'text' ? parts[0].text : parts });
  }
  const out: Obj = { model, messages };
  const reasoning = COMPLETION_TOKENS_MODELS.test(model);
  if (typeof b.max_tokens === 'number') out[reasoning ? 'max_completion_tokens' : 'max_tokens'] = b.max_tokens;
  // o-series and GPT-5 models take only the default sampling (a 400 for any other value)
  if (b.temperature !== undefined && !reasoning) out.temperature = b.temperature;
  if (b.top_p !== undefined && !reasoning) out.top_p = b.top_p;
  if (Array.isArray(b.stop_sequences) && b.stop_sequences.length) {
    // o-series and GPT-5 models answer 400 "Unsupported parameter: 'stop'": said here, naming the field
    if (reasoning) throw new GatewayError(400, 'unsupported_parameter', `stop_sequences: ${model} (an OpenAI reasoning model) takes no stop sequences`, { field: 'body.stop_sequences' });
    if (b.stop_sequences.length > MAX_OPENAI_STOPS) {
      throw new GatewayError(400, 'unsupported_parameter', `stop_sequences: ${b.stop_sequences.length} given; an OpenAI-format provider takes at most ${MAX_OPENAI_STOPS}`, { field: 'body.stop_sequences' });
    }
    out.stop = b.stop_sequences;
  }
  if (b.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (Array.isArray(b.tools)) {
    const tools: Obj[] = [];
    for (const [i, t] of (b.tools as unknown[]).entries()) {
      if (!isJsonObject(t)) continue;
      // Anthropic's server and built-in tools (web search, code execution, computer use) have no
      // schema an OpenAI-format model could call: refused, not dropped (the answer would come
      // without the search the client asked for).
      if (!isJsonObject(t.input_schema)) {
        throw new GatewayError(400, 'unsupported_tool', `tools.${i}: ${String(t.type ?? t.name ?? 'this tool')} is an Anthropic server or built-in tool; an OpenAI-format provider can only call tools with an input_schema`, { field: `body.tools.${i}` });
      }
      tools.push({ type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema } });
    }
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

/**
 * The stop sequence that ended an answer, when the provider says which (vLLM and others give the
 * matched string as `stop_reason`; OpenAI itself does not) and the client asked for it.
 */
export function matchedStopSequence(choice: { finish_reason?: unknown; stop_reason?: unknown } | undefined, request: Obj): string | null {
  if (choice?.finish_reason !== 'stop' || typeof choice.stop_reason !== 'string') return null;
  return Array.isArray(request.stop_sequences) && request.stop_sequences.includes(choice.stop_reason) ? choice.stop_reason : null;
}

export function anthropicUsageFromOpenai(raw: unknown): Obj {
  const u = openaiUsage(raw) ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  return { input_tokens: u.input, output_tokens: u.output, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: 0 };
}

interface OpenaiChoice {
  message?: { content?: unknown; refusal?: unknown; tool_calls?: { id: string; function: { name: string; arguments: string } }[] };
  finish_reason?: unknown;
  stop_reason?: unknown;
}

export function openaiToAnthropicResponse(c: unknown, clientModel: string, request: Obj = {}): Obj {
  const r = (isJsonObject(c) ? c : {}) as { id?: string; choices?: OpenaiChoice[]; usage?: unknown };
  const choice = r.choices?.[0];
  // A 200 that is no completion (a list, a proxy's page parsed as JSON): the caller answers 502.
  if (!isJsonObject(choice) || !isJsonObject(choice.message)) throw new Error('the answer has no choices[0].message');
  const cut = choice.finish_reason === 'length';
  const content: Obj[] = [];
  // a refusal is what the model said: the client shows it, and the stop says why
  const refusal = typeof choice.message.refusal === 'string' && choice.message.refusal ? choice.message.refusal : undefined;
  const text = typeof choice.message.content === 'string' ? choice.message.content : '';
  const toolCalls = Array.isArray(choice.message.tool_calls) ? choice.message.tool_calls : [];
  for (const t of toolCalls) {
    const input = parseJson(t.function?.arguments || '{}');
    if (!isJsonObject(input)) {
      // arguments cut off by the token limit: a call with made-up input ({}) would run; the
      // answer ends at the limit without it
      if (cut) continue;
      throw new Error(`tool call ${String(t.id)} has arguments that are not a JSON object`);
    }
    // a call without an id (or with an empty one) gets one: the client's tool_result names it
    content.push({ type: 'tool_use', id: toolUseIdWith(t.id || newToolUseId(), signatureOf(t)), name: t.function.name, input });
  }
  if (text || refusal || !content.length) content.unshift({ type: 'text', text: text || refusal || '' });
  const stop = refusal && !text ? 'refusal' : stopReasonFromOpenai(choice.finish_reason);
  const sequence = matchedStopSequence(choice, request);
  return {
    id: `msg_${(r.id ?? randomUUID()).replace(/^chatcmpl-/, '')}`,
    type: 'message',
    role: 'assistant',
    model: clientModel,
    content,
    // an answer with tool calls asks for them, whatever reason the provider gave (Gemini: "stop")
    stop_reason: sequence ? 'stop_sequence' : content.some((b) => b.type === 'tool_use') && stop === 'end_turn' ? 'tool_use' : stop,
    stop_sequence: sequence,
    usage: anthropicUsageFromOpenai(r.usage),
  };
}

/** Anthropic's error type for an OpenAI-format error's `type`/`code`, else for its status. */
export function anthropicTypeOfOpenaiError(status: number, type: unknown, code: unknown): string {
  const said = `${typeof type === 'string' ? type : ''} ${typeof code === 'string' ? code : ''}`;
  if (/rate_limit|insufficient_quota|too_many/.test(said)) return 'rate_limit_error';
  if (/overloaded|capacity/.test(said)) return 'overloaded_error';
  if (/authentication|invalid_api_key/.test(said)) return 'authentication_error';
  if (/permission/.test(said)) return 'permission_error';
  if (/not_found|model_not_found/.test(said)) return 'not_found_error';
  if (/timeout/.test(said)) return 'timeout_error';
  return anthropicErrorType(status);
}

/**
 * An OpenAI-format error body as Anthropic's. Providers differ: OpenAI's `{error: {message, type,
 * code}}`, Ollama's `{error: "..."}`, vLLM's `{object: "error", message, type}`.
 */
export function openaiErrorToAnthropic(status: number, text: string): Obj {
  const j = parseJson(text);
  const body = (isJsonObject(j) ? j : {}) as Obj;
  const inner = isJsonObject(body.error) ? (body.error as Obj) : body;
  const message =
    typeof body.error === 'string' ? body.error
    : typeof inner.message === 'string' ? inner.message
    : text.slice(0, 500) || `upstream error ${status}`;
  return { type: 'error', error: { type: anthropicTypeOfOpenaiError(status, inner.type, inner.code), message } };
}
