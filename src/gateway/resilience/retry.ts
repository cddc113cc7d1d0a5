import type { AbortLike } from '../../core/abort.js';
/** Upstream statuses worth another attempt: rate limits, server errors, Anthropic's 529 overloaded. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504, 529]);

/** Statuses that count against a provider's circuit breaker (its health, not the client's fault). */
export function isProviderFailure(status: number): boolean {
  return status >= 500;
}

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  random?: () => number;
}

/**
 * `retry-after` in ms: seconds (possibly fractional) or an HTTP date; also Anthropic/OpenAI's
 * `retry-after-ms`. Undefined when absent or unparseable.
 */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const v = first(headers['retry-after']);
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.ceil(Number(t) * 1000);
  const date = Date.parse(t);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Delay before retry number `attempt` (1-based): exponential with full jitter, capped; a
 * server's `retry-after` is honoured as a floor. Undefined means "do not retry" (the server
 * asked for a wait longer than we are willing to hold the client).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, retryAfterMs?: number): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > opts.maxRetryAfterMs) return undefined;
  const rand = opts.random ?? Math.random;
  const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  // Jitter between half and the full exponential step spreads synchronized clients apart.
  const jittered = exp / 2 + rand() * (exp / 2);
  return Math.max(retryAfterMs ?? 0, Math.round(jittered));
}

/** A sleep that ends early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
