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

function userContent(content: unknown): unknown {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as unknown[]).flatMap((p): Obj[] => {
    if (!isJsonObject(p)) return [];
    if (p.type === 'text') return [{ type: 'text', text: String(p.text ?? '') }];
    if (p.type === 'image_url') {
      const url = String((p.image_url as Obj | undefined)?.url ?? '');
      const m = /^data:([^;]+);base64,(.*)$/s.exec(url);
      return [m ? { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } } : { type: 'image', source: { type: 'url', url } }];
    }
    return [];
  });
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
      messages.push({ role: 'assistant', content: blocks.length ? blocks : [{ type: 'text', text: '' }] });
    } else {
      const c = userContent(m.content);
      messages.push({ role: 'user', content: c });
    }
  }
  const out: Obj = { model, messages, max_tokens: typeof b.max_tokens === 'number' ? b.max_tokens : typeof b.max_completion_tokens === 'number' ? b.max_completion_tokens : 4096 };
  if (system.length) out.system = system.join('\n\n');
  if (typeof b.temperature === 'number') out.temperature = Math.min(1, b.temperature);
  if (b.top_p !== undefined) out.top_p = b.top_p;
  if (b.stop !== undefined && b.stop !== null) out.stop_sequences = Array.isArray(b.stop) ? b.stop : [b.stop];
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

export function anthropicToOpenaiResponse(m: unknown, clientModel: string): Obj {
  const r = (isJsonObject(m) ? m : {}) as { id?: string; content?: Obj[]; stop_reason?: unknown; usage?: unknown };
  const blocks = r.content ?? [];
  const text = blocks.filter((x) => x.type === 'text').map((x) => String(x.text ?? '')).join('');
  const toolCalls = blocks.filter((x) => x.type === 'tool_use').map((x) => ({ id: String(x.id), type: 'function', function: { name: String(x.name), arguments: JSON.stringify(x.input ?? {}) } }));
  return {
    id: `chatcmpl-${(r.id ?? randomUUID()).replace(/^msg_/, '')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: clientModel,
    choices: [{ index: 0, message: { role: 'assistant', content: text || (toolCalls.length ? null : ''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}), refusal: null }, finish_reason: finishReasonFromAnthropic(r.stop_reason), logprobs: null }],
    usage: openaiUsageFromAnthropic(r.usage),
  };
}

export function anthropicErrorToOpenai(status: number, text: string): Obj {
  const j = parseJson(text) as { error?: { message?: unknown; type?: unknown } } | undefined;
  const message = typeof j?.error?.message === 'string' ? j.error.message : text.slice(0, 500) || `upstream error ${status}`;
  return { error: { message, type: openaiErrorType(status), code: typeof j?.error?.type === 'string' ? j.error.type : null, param: null } };
}
