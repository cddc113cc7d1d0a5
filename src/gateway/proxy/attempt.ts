import type { Router, ResolvedRoute } from '../routing/router.js';
import { backoffDelay, isProviderFailure, parseRetryAfter, RETRYABLE_STATUSES, sleep } from '../resilience/retry.js';
import type { BackoffOptions } from '../resilience/retry.js';
import type { ProviderState } from '../resilience/providers.js';
import { QueueError } from '../resilience/queue.js';
import type { Upstream, UpstreamResponse } from '../upstream/client.js';
import { GatewayError } from './errors.js';
import type { AbortLike } from '../../core/abort.js';

export interface AttemptInput {
  route: ResolvedRoute;
  state: ProviderState;
  router: Router;
  upstream: Upstream;
  backoff: BackoffOptions;
  path: string;
  /** Builds headers for a key (undefined: the client's own credentials). */
  headers(apiKey: string | undefined): Record<string, string>;
  body: Buffer | string;
  signal: AbortLike;
  onState(s: 'queued' | 'upstream'): void;
  /** Before each retry: which one (1-based), of how many, why, and the wait before it. */
  onRetry(r: { retry: number; of: number; reason: string; delayMs: number }): void;
}

/** An upstream answer with the concurrency slot it holds until the relay finishes. */
export interface Answer {
  res: UpstreamResponse;
  release(): void;
}

type ErrorLike = { code?: string; cause?: { code?: string }; name?: string; message?: string };

/** An undici or system error's code (its own or its cause's), '' without one. */
const errorCode = (err: ErrorLike): string => err.code ?? err.cause?.code ?? '';

/** Maps undici/network errors to what the client sees: 504 on timeouts, 502 otherwise. */
export function networkError(e: unknown, route: ResolvedRoute): GatewayError {
  const err = e as ErrorLike;
  const code = errorCode(err);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError(504, 'upstream_timeout', `Request timeout: ${route.provider} did not answer within ${route.timeoutMs} ms (route ${route.name}); raise timeout_ms in model-routing.json`, { cause: e });
  }
  const said = NETWORK_WORDS[code];
  return new GatewayError(502, 'upstream_unreachable', `Can't reach ${route.provider} at ${route.origin}: ${said ? `${said} (${code})` : code || err.message || 'connection failed'}. Check the network, base_url and --http-proxy.`, { cause: e });
}

/** What the usual connection errors mean, in the words a user greps the log for. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the other side',
};

/**
 * An upstream answer that could not be relayed: its body broke off or timed out (a network
 * error), or it could not be read as the provider's format says (a translating route given a
 * shape it does not know).
 */
export function unreadableAnswer(e: unknown, route: ResolvedRoute): GatewayError {
  const err = e as ErrorLike;
  const code = errorCode(err);
  if (code === 'UND_ERR_BODY_TIMEOUT') return networkError(e, route);
  if (code.startsWith('UND_ERR') || /^E[A-Z]+$/.test(code) || err.name === 'SocketError') {
    return new GatewayError(502, 'upstream_error', `${route.provider}'s answer broke off before its end (${code || err.message}); route ${route.name}`, { cause: e });
  }
  return new GatewayError(502, 'upstream_invalid_answer', `${route.provider} sent an answer that could not be read (route ${route.name}): ${err.message ?? String(e)}`, { cause: e });
}

/**
 * Sends one request to a provider, retrying retryable statuses and network errors with
 * exponential backoff and jitter (honouring `retry-after`), through the provider's breaker
 * and concurrency queue. Resolves with the final answer — success or an error status the
 * caller relays or falls back from — or throws a GatewayError (network, breaker open, queue).
 */
export async function sendWithRetries(a: AttemptInput): Promise<Answer> {
  const { route, state } = a;
  for (let attempt = 0; ; attempt++) {
    const admission = state.breaker.admit();
    if (admission === undefined) {
      const retryInMs = state.breaker.retryInMs();
      // retry-after: an SDK would otherwise spend its retries inside the open window
      throw new GatewayError(503, 'circuit_open', `Circuit breaker for ${route.provider} is open after repeated failures; retrying in ${Math.ceil(retryInMs / 1000)} s`, { retryAfterMs: Math.max(1000, retryInMs) });
    }
    let release: () => void;
    try {
      a.onState('queued');
      release = await state.queue.acquire(a.signal);
    } catch (e) {
      state.breaker.release(admission);
      if (e instanceof QueueError && e.code === 'queue_full') throw new GatewayError(529, 'queue_full', `Too many requests waiting for ${route.provider}: ${e.message}`, { retryAfterMs: 1000 });
      throw a.signal.reason ?? e;
    }
    let res: UpstreamResponse;
    // the key this attempt uses (a 401/429 moves the ring on from it)
    let key: string | undefined;
    try {
      a.onState('upstream');
      // The route timeout is undici's headers timeout (time to the first byte; native timers up to
      // a second, ±0.5 s beyond) and its body timeout (longest silence between chunks). The
      // request's own signal aborts the call when the client goes away or an operator kills it.
      res = await a.upstream.request({
        origin: route.origin,
        path: a.path,
        method: 'POST',
        headers: a.headers((key = a.router.currentKey(route))),
        body: a.body,
        signal: a.signal,
        headersTimeoutMs: route.timeoutMs,
        bodyTimeoutMs: route.timeoutMs,
      });
    } catch (e) {
      release();
      if (a.signal.aborted) {
        state.breaker.release(admission);
        throw a.signal.reason;
      }
      state.breaker.failure();
      const err = networkError(e, route);
      if (attempt < route.retries && state.breaker.state !== 'open') {
        const delayMs = backoffDelay(attempt + 1, a.backoff) ?? 0;
        a.onRetry({ retry: attempt + 1, of: route.retries, reason: err.code, delayMs });
        await sleep(delayMs, a.signal);
        continue;
      }
      throw err;
    }
    // The body keeps following the client: a disconnect aborts the upstream stream too.
    if (res.status < 400) {
      state.breaker.success();
      return { res, release };
    }
    // A 4xx still proves the provider alive (a half-open probe succeeded).
    if (isProviderFailure(res.status)) state.breaker.failure();
    else state.breaker.success();
    if (res.status === 401 || res.status === 429) a.router.rotateKey(route, key);
    // A key the provider refuses (revoked, mistyped) is tried no more: with other configured keys,
    // the request goes again at once with the next one.
    const nextKey = res.status === 401 && route.keys.length > 1 && attempt < Math.min(route.retries, route.keys.length - 1) && a.router.currentKey(route) !== key;
    const delay = nextKey ? 0 : RETRYABLE_STATUSES.has(res.status) && attempt < route.retries && state.breaker.state !== 'open' ? backoffDelay(attempt + 1, a.backoff, parseRetryAfter(res.headers)) : undefined;
    if (delay === undefined) return { res, release };
    await res.body.dump().catch(() => undefined);
    release();
    a.onRetry({ retry: attempt + 1, of: route.retries, reason: `HTTP ${res.status}`, delayMs: delay });
    await sleep(delay, a.signal);
  }
}
