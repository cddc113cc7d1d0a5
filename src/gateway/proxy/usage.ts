import { StringDecoder } from 'node:string_decoder';
import type { ProviderFormat } from '../routing/schema.js';

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
 * token, and tells whether the stream ended properly (`message_stop` / `data: [DONE]`). Only
 * the few events that carry usage are JSON-parsed, so the hot path stays cheap.
 */
export class SseObserver {
  readonly usage = emptyUsage();
  complete = false;
  firstTokenAt: number | undefined;
  /** An `error` event the upstream sent inside the stream. */
  upstreamError: { type: string; message: string } | undefined;
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly format: ProviderFormat) {}

  push(chunk: Buffer): void {
    this.buf += this.decoder.write(chunk);
    if (this.buf.includes('\r')) this.buf = this.buf.replace(/\r\n?/g, '\n');
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      if (this.format === 'anthropic') this.anthropicEvent(block);
      else this.openaiEvent(block);
    }
  }

  private anthropicEvent(block: string): void {
    const type = /^event: ?(.*)$/m.exec(block)?.[1]?.trim();
    if (type === 'content_block_delta') {
      this.firstTokenAt ??= Date.now();
      return;
    }
    if (type === 'message_stop') {
      this.complete = true;
      return;
    }
    if (type !== 'message_start' && type !== 'message_delta' && type !== 'error') return;
    const data = dataOf(block);
    if (data === undefined) return;
    if (type === 'message_start') mergeAnthropicUsage(this.usage, (data as { message?: { usage?: unknown } }).message?.usage);
    else if (type === 'message_delta') mergeAnthropicUsage(this.usage, (data as { usage?: unknown }).usage);
    else this.upstreamError = errorOf(data);
  }

  private openaiEvent(block: string): void {
    const line = block.startsWith('data:') ? block : block.split('\n').find((l) => l.startsWith('data:'));
    if (!line) return;
    const payload = line.slice(5).trim();
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

function dataOf(block: string): unknown {
  const lines = block.split('\n').filter((l) => l.startsWith('data:'));
  if (!lines.length) return undefined;
  try {
    return JSON.parse(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  } catch {
    return undefined;
  }
}

function errorOf(data: unknown): { type: string; message: string } {
  const e = (data as { error?: { type?: unknown; message?: unknown } }).error;
  return { type: typeof e?.type === 'string' ? e.type : 'api_error', message: typeof e?.message === 'string' ? e.message : 'upstream stream error' };
}
