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
  /** Of `cacheWrite`, the tokens written to Anthropic's 1-hour cache (priced higher than 5-minute writes). */
  cacheWrite1h?: number;
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
  const split = r.cache_creation as Record<string, unknown> | null | undefined;
  const oneHour = split && typeof split === 'object' ? num(split.ephemeral_1h_input_tokens) : undefined;
  if (oneHour !== undefined) u.cacheWrite1h = oneHour;
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

const LF = 10;
const CR = 13;
const SPACE = 32;
const LFLF = Buffer.from('\n\n');
const EVENT = Buffer.from('event:');
const NL_EVENT = Buffer.from('\nevent:');
const CONTENT_BLOCK_DELTA = Buffer.from('content_block_delta');
const MESSAGE_STOP = Buffer.from('message_stop');

/** Whether `b[from, to)` holds exactly the bytes of `lit`. */
function bytesAre(b: Buffer, from: number, to: number, lit: Buffer): boolean {
  if (to - from !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[from + i] !== lit[i]) return false;
  return true;
}

/**
 * Watches a relayed SSE stream without touching its bytes: collects usage, notes the first
 * token, and tells whether the stream ended properly (`message_stop` / `data: [DONE]`).
 *
 * It runs for every chunk of every streamed answer. An Anthropic stream is scanned as bytes: an
 * event's type is compared where its `event:` line starts, and only the few events that carry
 * usage (or an error) are decoded and JSON-parsed; content deltas, most of the stream, are never
 * turned into strings (decoding them cost ~4 KB of garbage per short answer, and a Claude Code
 * answer is tens of KB). A stream with CR line ends, and an OpenAI stream, is decoded and scanned
 * as text in the same way.
 */
/** An OpenAI chunk with output in it: text, reasoning or a refusal that is not empty, or a tool call. */
const FIRST_TOKEN = /"(?:content|reasoning_content|reasoning|refusal)"\s*:\s*"[^"]|"tool_calls"\s*:\s*\[/;

export class SseObserver {
  readonly usage = emptyUsage();
  complete = false;
  firstTokenAt: number | undefined;
  /** An `error` event the upstream sent inside the stream. */
  upstreamError: { type: string; message: string } | undefined;
  /** Scanning bytes (an Anthropic stream, no CR seen): the unfinished event's bytes, if any. */
  private pending: Buffer | undefined;
  private asText: boolean;
  /** Text received and not yet scanned: at most the start of one unfinished event. */
  private buf = '';
  private readonly text = new SseText();

  constructor(private readonly format: ProviderFormat) {
    this.asText = format !== 'anthropic';
  }

  push(chunk: Buffer): void {
    if (!this.asText) {
      if (chunk.indexOf(CR) < 0) return this.pushBytes(chunk);
      // CR line ends: from here on, the text path (which normalises them) takes the stream
      this.asText = true;
      const pending = this.pending;
      this.pending = undefined;
      if (pending) this.pushText(pending);
    }
    this.pushText(chunk);
  }

  private pushBytes(chunk: Buffer): void {
    let start = 0;
    const held = this.pending;
    if (held !== undefined) {
      // The held event ends at the first blank line, which may begin in the held part's last byte.
      // Only that event is copied together; the rest of the chunk is scanned where it is.
      let cut: number;
      if (held[held.length - 1] === LF && chunk[0] === LF) cut = 1;
      else {
        const blank = chunk.indexOf(LFLF);
        if (blank < 0) {
          this.pending = Buffer.concat([held, chunk]);
          return;
        }
        cut = blank + 2;
      }
      const event = Buffer.concat([held, chunk.subarray(0, cut)]);
      this.pending = undefined;
      this.anthropicBytes(event, 0, event.length - 2);
      start = cut;
    }
    let end: number;
    while ((end = chunk.indexOf(LFLF, start)) >= 0) {
      this.anthropicBytes(chunk, start, end);
      start = end + 2;
    }
    this.pending = start === chunk.length ? undefined : chunk.subarray(start);
  }

  /** The Anthropic event in `b` from `start` to `end` (exclusive), as bytes. */
  private anthropicBytes(b: Buffer, start: number, end: number): void {
    let line = start;
    if (!bytesAre(b, start, Math.min(end, start + EVENT.length), EVENT)) {
      const at = b.subarray(start, end).indexOf(NL_EVENT);
      if (at < 0) return;
      line = start + at + 1;
    }
    let from = line + EVENT.length;
    if (b[from] === SPACE) from++;
    let to = b.indexOf(LF, from);
    if (to < 0 || to > end) to = end;
    while (to > from && b[to - 1] === SPACE) to--;
    if (bytesAre(b, from, to, CONTENT_BLOCK_DELTA)) {
      this.firstTokenAt ??= Date.now();
      return;
    }
    if (bytesAre(b, from, to, MESSAGE_STOP)) {
      this.complete = true;
      return;
    }
    const type = b.toString('latin1', from, to).trim();
    if (type === 'message_start' || type === 'message_delta' || type === 'error') this.anthropicData(type, b.toString('utf8', start, end));
  }

  private pushText(chunk: Buffer): void {
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
    if (type === 'message_start' || type === 'message_delta' || type === 'error') this.anthropicData(type, buf.slice(start, end));
  }

  /** A usage-carrying (or error) event's block of text. */
  private anthropicData(type: 'message_start' | 'message_delta' | 'error', block: string): void {
    const data = parseJson(sseEvent(block)?.data ?? '');
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
    // the first chunk that carries something (the first is often the role alone, sent at once)
    if (this.firstTokenAt === undefined && FIRST_TOKEN.test(payload)) this.firstTokenAt = Date.now();
    // (usage written with spaces too: Python servers' json.dumps puts one after the colon)
    if (!USAGE_OBJECT.test(payload) && !payload.includes('"error"')) return;
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

/** A `"usage"` key with an object value (OpenAI chunks carry `"usage":null` until the last). */
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

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
