import type { ProviderFormat } from '../routing/schema.js';
import { parseJson, sseEvent, SseText } from '../translate/sse.js';

/**
 * Tokens of one response in four buckets. `input` excludes the cache buckets (Anthropic's
 * `input_tokens` already does; OpenAI's `prompt_tokens` includes cached tokens, so they are
 * subtracted).
 */
export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export const emptyUsage = (): Usage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });

// A count a provider reports: a finite number, never negative (a counter that went down would break /metrics).
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** Merges an Anthropic `usage` object into `u` (fields present win: message_delta is cumulative). */
export function mergeAnthropicUsage(u: Usage, raw: unknown): void {
  if (!raw || typeof raw !== 'object') return;
  const r = raw as Record<string, unknown>;
  u.input = num(r.input_tokens) ?? u.input;
  u.output = num(r.output_tokens) ?? u.output;
  u.cacheRead = num(r.cache_read_input_tokens) ?? u.cacheRead;
  u.cacheWrite = num(r.cache_creation_input_tokens) ?? u.cacheWrite;
}

export function openaiUsage(raw: unknown): Usage | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null };
  const cached = num(r.prompt_tokens_details?.cached_tokens) ?? 0;
  return { input: Math.max(0, (num(r.prompt_tokens) ?? 0) - cached), output: num(r.completion_tokens) ?? 0, cacheRead: cached, cacheWrite: 0 };
}

/** Usage of a complete (non-streamed) response body. */
export function usageFromBody(format: ProviderFormat, body: unknown): Usage {
  const b = (body ?? {}) as { usage?: unknown };
  if (format === 'openai') return openaiUsage(b.usage) ?? emptyUsage();
  const u = emptyUsage();
  mergeAnthropicUsage(u, b.usage);
  return u;
}

/**
 * Watches a relayed SSE stream without touching its bytes: collects usage, notes the first
 * token, and tells whether the stream ended properly (`message_stop` / `data: [DONE]`).
 *
 * It runs for every chunk of every streamed answer, so it scans the decoded text in place:
 * an event's type is read where its `event:` line starts, and only the few events that carry
 * usage (or an error) are cut out and JSON-parsed. Content deltas, most of the stream, cost a
 * few comparisons each.
 */
export class SseObserver {
  readonly usage = emptyUsage();
  complete = false;
  firstTokenAt: number | undefined;
  /** An `error` event the upstream sent inside the stream. */
  upstreamError: { type: string; message: string } | undefined;
  /** Text received and not yet scanned: at most the start of one unfinished event. */
  private buf = '';
  private readonly text = new SseText();

  constructor(private readonly format: ProviderFormat) {}

  push(chunk: Buffer): void {
    const text = this.text.push(chunk);
    const buf = this.buf.length === 0 ? text : this.buf + text;
    let pos = 0;
    let end: number;
    while ((end = buf.indexOf('\n\n', pos)) >= 0) {
      if (this.format === 'anthropic') this.anthropicEvent(buf, pos, end);
      else this.openaiEvent(buf, pos, end);
      pos = end + 2;
    }
    this.buf = pos === 0 ? buf : buf.slice(pos);
  }

  /** The Anthropic event in `buf` from `start` to `end` (exclusive). */
  private anthropicEvent(buf: string, start: number, end: number): void {
    const type = eventType(buf, start, end);
    if (type === 'content_block_delta') {
      this.firstTokenAt ??= Date.now();
      return;
    }
    if (type === 'message_stop') {
      this.complete = true;
      return;
    }
    if (type !== 'message_start' && type !== 'message_delta' && type !== 'error') return;
    const data = parseJson(sseEvent(buf.slice(start, end))?.data ?? '');
    if (data === undefined) return;
    if (type === 'message_start') mergeAnthropicUsage(this.usage, (data as { message?: { usage?: unknown } }).message?.usage);
    else if (type === 'message_delta') mergeAnthropicUsage(this.usage, (data as { usage?: unknown }).usage);
    else this.upstreamError = errorOf(data);
  }

  /** The OpenAI event in `buf` from `start` to `end` (exclusive): one `data:` line. */
  private openaiEvent(buf: string, start: number, end: number): void {
    let line = start;
    if (!buf.startsWith('data:', start)) {
      const at = buf.indexOf('\ndata:', start);
      if (at < 0 || at >= end) return;
      line = at + 1;
    }
    const lineEnd = buf.indexOf('\n', line);
    const payload = buf.slice(line + 5, lineEnd < 0 || lineEnd > end ? end : lineEnd).trim();
    if (payload === '[DONE]') {
      this.complete = true;
      return;
    }
    if (this.firstTokenAt === undefined && payload.includes('"delta"')) this.firstTokenAt = Date.now();
    if (!payload.includes('"usage":{') && !payload.includes('"error"')) return;
    let data: unknown;
    try {
      data = JSON.parse(payload);
    } catch {
      return;
    }
    const u = openaiUsage((data as { usage?: unknown }).usage);
    if (u) Object.assign(this.usage, u);
    if ((data as { error?: unknown }).error) this.upstreamError = errorOf(data);
  }
}

/** The value of the event's `event:` field (its first such line), or undefined. */
function eventType(buf: string, start: number, end: number): string | undefined {
  let line = start;
  if (!buf.startsWith('event:', start)) {
    const at = buf.indexOf('\nevent:', start);
    if (at < 0 || at >= end) return undefined;
    line = at + 1;
  }
  let from = line + 6;
  if (buf.charCodeAt(from) === 32) from++;
  const lineEnd = buf.indexOf('\n', from);
  return buf.slice(from, lineEnd < 0 || lineEnd > end ? end : lineEnd).trim();
}

function errorOf(data: unknown): { type: string; message: string } {
  const e = (data as { error?: { type?: unknown; message?: unknown } }).error;
  return { type: typeof e?.type === 'string' ? e.type : 'api_error', message: typeof e?.message === 'string' ? e.message : 'upstream stream error' };
}
