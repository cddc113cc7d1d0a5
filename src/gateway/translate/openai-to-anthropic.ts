import { randomUUID } from 'node:crypto';
import { isJsonObject } from '../../core/json.js';
import { GatewayError, openaiErrorType } from '../proxy/errors.js';
import { mergeAnthropicUsage, emptyUsage } from '../proxy/usage.js';
import { parseJson } from './sse.js';

/** OpenAI client → Anthropic-format provider: request body, complete answer, error body. */
type Obj = Record<string, unknown>;

function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as unknown[])
    .filter((p): p is Obj => isJsonObject(p) && p.type === 'text')
    .map((p) => String(p.text ?? ''))
    .join('\n');
}

/** The tool an Anthropic model answers through when an OpenAI client asks for JSON (`response_format`). */
export const JSON_TOOL = 'json_response';

/** Whether the client asked for a JSON answer (json_object or json_schema). */
export function wantsJson(body: Obj): boolean {
  const f = body.response_format;
  return isJsonObject(f) && (f.type === 'json_object' || f.type === 'json_schema');
}

/** A `data:<type>;base64,<data>` URL's parts. */
const dataUrl = (url: string): { type: string; data: string } | undefined => {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { type: m[1] as string, data: m[2] as string } : undefined;
};

function userContent(content: unknown, field: string): Obj[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  return (content as unknown[]).flatMap((p, j): Obj[] => {
    if (!isJsonObject(p)) return [];
    // an empty text block is refused by Anthropic ("text content blocks must be non-empty")
    if (p.type === 'text') return p.text ? [{ type: 'text', text: String(p.text) }] : [];
    if (p.type === 'image_url') {
      const url = String((p.image_url as Obj | undefined)?.url ?? '');
      const d = dataUrl(url);
      return [d ? { type: 'image', source: { type: 'base64', media_type: d.type, data: d.data } } : { type: 'image', source: { type: 'url', url } }];
    }
    if (p.type === 'file' && isJsonObject(p.file)) {
      const d = typeof p.file.file_data === 'string' ? dataUrl(p.file.file_data) : undefined;
      const title = typeof p.file.filename === 'string' && p.file.filename ? { title: p.file.filename } : {};
      if (d?.type === 'application/pdf') return [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: d.data }, ...title }];
      if (d?.type.startsWith('text/')) return [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(d.data, 'base64').toString('utf8') }, ...title }];
      throw new GatewayError(400, 'unsupported_content', `${field}.${j}: a file part needs file_data as a base64 data URL of a PDF or text file on a route to an Anthropic model (file ids cannot be resolved there)`, { field: `${field}.${j}` });
    }
    // audio and other parts an Anthropic model cannot take: refused, not answered without them
    throw new GatewayError(400, 'unsupported_content', `${field}.${j}: content parts of type ${String(p.type)} cannot be sent to an Anthropic model (text, image_url and file are supported)`, { field: `${field}.${j}` });
  });
}

/** `response_format` as a tool the model must call: Anthropic's way to a JSON answer of a given schema. */
function jsonTool(b: Obj): { tool: Obj; choice: Obj } {
  const f = b.response_format as Obj;
  const spec = (isJsonObject(f.json_schema) ? f.json_schema : {}) as Obj;
  const schema = f.type === 'json_schema' ? spec.schema : { type: 'object', additionalProperties: true };
  if (!isJsonObject(schema) || schema.type !== 'object') {
    throw new GatewayError(400, 'unsupported_parameter', 'response_format: on a route to an Anthropic model the JSON schema must describe an object (type: "object")', { field: 'body.response_format' });
  }
  if (Array.isArray(b.tools) && b.tools.length) {
    throw new GatewayError(400, 'unsupported_parameter', 'response_format: a JSON answer cannot be combined with tools on a route to an Anthropic model (send one or the other)', { field: 'body.response_format' });
  }
  const description = `Give your answer by calling this tool: its input is the JSON answer${typeof spec.description === 'string' ? ` (${spec.description})` : ''}.`;
  return { tool: { name: JSON_TOOL, description, input_schema: schema }, choice: { type: 'tool', name: JSON_TOOL } };
}

export function openaiToAnthropicRequest(b: Obj, model: string): Obj {
  // What an Anthropic model cannot give is refused, not dropped: the client would count on it.
  if (typeof b.n === 'number' && b.n > 1) {
    throw new GatewayError(400, 'unsupported_parameter', `n: ${b.n} choices were asked for; a route to an Anthropic model answers with one (send n: 1 or leave it out)`, { field: 'body.n' });
  }
  if (b.logprobs === true || (b.top_logprobs !== undefined && b.top_logprobs !== null)) {
    throw new GatewayError(400, 'unsupported_parameter', 'logprobs: Anthropic models do not return log probabilities (leave logprobs and top_logprobs out on this route)', { field: 'body.logprobs' });
  }
  const system: string[] = [];
  const messages: Obj[] = [];
  const push = (role: string, blocks: Obj[]) => {
    const last = messages[messages.length - 1];
    // Consecutive tool results (one per tool call) travel together in one user turn.
    if (last && last.role === role && Array.isArray(last.content) && role === 'user' && blocks.every((x) => x.type === 'tool_result')) (last.content as Obj[]).push(...blocks);
    else messages.push({ role, content: blocks });
  };
  const msgs = Array.isArray(b.messages) ? (b.messages as unknown[]) : [];
  for (const [i, m] of msgs.entries()) {
    if (!isJsonObject(m)) throw new GatewayError(400, 'invalid_request', `messages.${i}: a message must be an object`, { field: `messages.${i}` });
    const role = String(m.role);
    if (role === 'system' || role === 'developer') system.push(partsText(m.content));
    else if (role === 'tool') push('user', [{ type: 'tool_result', tool_use_id: String(m.tool_call_id), content: partsText(m.content) }]);
    else if (role === 'assistant') {
      const blocks: Obj[] = [];
      const text = partsText(m.content);
      if (text) blocks.push({ type: 'text', text });
      const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as unknown[]) : [];
      for (const [j, t] of calls.entries()) {
        if (!isJsonObject(t) || !isJsonObject(t.function) || typeof t.function.name !== 'string') {
          throw new GatewayError(400, 'invalid_request', `messages.${i}.tool_calls.${j}: a tool call must be {id, type: "function", function: {name, arguments}}`, { field: `messages.${i}.tool_calls.${j}` });
        }
        const fn = t.function as { name: string; arguments?: unknown };
        const input = parseJson(typeof fn.arguments === 'string' && fn.arguments ? fn.arguments : '{}');
        blocks.push({ type: 'tool_use', id: t.id, name: fn.name, input: isJsonObject(input) ? input : {} });
      }
      // An empty assistant turn is left out (Anthropic refuses empty text blocks, and joins the
      // turns on either side of it).
      if (blocks.length) messages.push({ role: 'assistant', content: blocks });
    } else {
      const c = userContent(m.content, `messages.${i}.content`);
      if (c.length) messages.push({ role: 'user', content: c });
    }
  }
  const out: Obj = { model, messages, max_tokens: typeof b.max_tokens === 'number' ? b.max_tokens : typeof b.max_completion_tokens === 'number' ? b.max_completion_tokens : 4096 };
  if (system.length) out.system = system.join('\n\n');
  if (typeof b.temperature === 'number') out.temperature = Math.min(1, b.temperature);
  // Claude 4.5 and later refuse temperature and top_p together (a 400 "cannot both be
  // specified"), which OpenAI's API takes: beside a temperature, top_p is left out (top_p 1 is
  // no nucleus sampling at all anyway)
  if (b.top_p !== undefined && b.top_p !== null && out.temperature === undefined) out.top_p = b.top_p;
  if (b.stop !== undefined && b.stop !== null) {
    // Anthropic refuses a stop sequence of whitespace only ("\n"); such a stop is left out
    const stops = (Array.isArray(b.stop) ? b.stop : [b.stop]).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
    if (stops.length) out.stop_sequences = stops;
  }
  if (b.stream === true) out.stream = true;
  if (Array.isArray(b.tools)) {
    out.tools = (b.tools as unknown[])
      .filter((t): t is Obj => isJsonObject(t) && isJsonObject(t.function))
      .map((t) => {
        const f = t.function as Obj;
        return { name: f.name, ...(f.description ? { description: f.description } : {}), input_schema: f.parameters ?? { type: 'object', properties: {} } };
      });
  }
  const tc = b.tool_choice;
  if (tc !== undefined && out.tools) {
    if (tc === 'required') out.tool_choice = { type: 'any' };
    else if (tc === 'none') out.tool_choice = { type: 'none' };
    else if (isJsonObject(tc) && isJsonObject(tc.function)) out.tool_choice = { type: 'tool', name: tc.function.name };
    else out.tool_choice = { type: 'auto' };
  }
  // at most one tool call per answer, as the client asked
  if (b.parallel_tool_calls === false && out.tools) {
    const choice = (out.tool_choice as Obj | undefined) ?? { type: 'auto' };
    if (choice.type !== 'none') out.tool_choice = { ...choice, disable_parallel_tool_use: true };
  }
  if (wantsJson(b)) {
    const j = jsonTool(b);
    out.tools = [j.tool];
    out.tool_choice = j.choice;
  }
  if (typeof b.user === 'string') out.metadata = { user_id: b.user };
  return out;
}

export function finishReasonFromAnthropic(r: unknown): string {
  if (r === 'max_tokens') return 'length';
  if (r === 'tool_use') return 'tool_calls';
  if (r === 'refusal') return 'content_filter';
  return 'stop';
}

export function openaiUsageFromAnthropic(raw: unknown): Obj {
  const u = emptyUsage();
  mergeAnthropicUsage(u, raw);
  const prompt = u.input + u.cacheRead + u.cacheWrite;
  return { prompt_tokens: prompt, completion_tokens: u.output, total_tokens: prompt + u.output, prompt_tokens_details: { cached_tokens: u.cacheRead } };
}

export function anthropicToOpenaiResponse(m: unknown, clientModel: string, request: Obj = {}): Obj {
  const r = (isJsonObject(m) ? m : {}) as { id?: string; content?: unknown; stop_reason?: unknown; usage?: unknown };
  // A 200 that is no message (a proxy's page parsed as JSON): the caller answers 502.
  if (!Array.isArray(r.content)) throw new Error('the answer has no content array');
  const blocks = (r.content as unknown[]).filter(isJsonObject);
  let text = blocks.filter((x) => x.type === 'text').map((x) => String(x.text ?? '')).join('');
  let finish = finishReasonFromAnthropic(r.stop_reason);
  let uses = blocks.filter((x) => x.type === 'tool_use');
  if (wantsJson(request)) {
    // the JSON answer came as the input of the tool the request forced
    const answer = uses.find((x) => x.name === JSON_TOOL);
    if (answer) {
      text = JSON.stringify(answer.input ?? {});
      uses = uses.filter((x) => x !== answer);
      if (finish === 'tool_calls') finish = 'stop';
    }
  }
  const toolCalls = uses.map((x) => ({ id: String(x.id), type: 'function', function: { name: String(x.name), arguments: JSON.stringify(x.input ?? {}) } }));
  return {
    id: `chatcmpl-${(r.id ?? randomUUID()).replace(/^msg_/, '')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: clientModel,
    choices: [{ index: 0, message: { role: 'assistant', content: text || (toolCalls.length ? null : ''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}), refusal: null }, finish_reason: finish, logprobs: null }],
    usage: openaiUsageFromAnthropic(r.usage),
  };
}

export function anthropicErrorToOpenai(status: number, text: string): Obj {
  const j = parseJson(text) as { error?: { message?: unknown; type?: unknown } } | undefined;
  const message = typeof j?.error?.message === 'string' ? j.error.message : text.slice(0, 500) || `upstream error ${status}`;
  return { error: { message, type: openaiErrorType(status), code: typeof j?.error?.type === 'string' ? j.error.type : null, param: null } };
}
