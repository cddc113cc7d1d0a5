import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import type { PricingTable } from '../analytics/pricing.js';
import { zeroCost } from '../analytics/pricing.js';
import type { RequestRecord } from '../analytics/record.js';
import { cacheKey, hasUnsafeInteger } from '../cache/key.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { ProviderPool } from '../resilience/providers.js';
import { routeTarget } from '../routing/router.js';
import type { ResolvedRoute } from '../routing/router.js';
import type { RoutingStore } from '../routing/store.js';
import { bridgeFor } from '../translate/index.js';
import type { Upstream } from '../upstream/client.js';
import { decodedBody } from '../upstream/decode.js';
import { clientCredential, clientKeyPolicy, credentialOwner, HOP_HEADER, outgoingHeaders, relayHeaders } from '../upstream/headers.js';
import { RequestAbort } from '../../core/abort.js';
import type { AbortLike } from '../../core/abort.js';
import { ActiveRequests } from './active.js';
import type { ActiveRequest } from './active.js';
import { networkError, sendWithRetries, unreadableAnswer } from './attempt.js';
import { errorBody, GatewayError, shuttingDown, streamErrorEvent } from './errors.js';
import type { ClientFormat } from './errors.js';
import type { Inbound } from './inbound.js';
import { attribution, upstreamPath } from './inbound.js';
import { relay, withoutSecrets } from './relay.js';
import { validateBody } from './validate-body.js';
import type { RelayResult } from './relay.js';
import { withModel } from './raw-model.js';
import { addsStreamUsage, withStreamUsage } from './stream-usage.js';
import { replayCached } from './replay.js';
import { emptyUsage } from './usage.js';

/** A stack overflow while walking a request's JSON (cache key, translation): the body nests thousands of levels deep. */
const tooDeep = (e: unknown): boolean => e instanceof RangeError && /call stack/i.test(e.message);

export interface GatewayCoreOptions {
  routing: RoutingStore;
  upstream: Upstream;
  cache: ResponseCache;
  pricing: PricingTable;
  logger: Logger;
  /** Every finished request (analytics, metrics, hub, debug ring). */
  onFinished(rec: RequestRecord): void;
  /** An upstream attempt is retried (counted for the provider that was retried, not the one that answered). */
  onRetry?(provider: string): void;
  /**
   * Bound beyond loopback (team mode): a client must present a gateway credential (the daemon's
   * access token) as `x-cco-token` or as its API key. Such a credential is never forwarded.
   */
  clientAuth?: { isGatewayCredential(token: string): boolean };
  /** A request that takes longer than this (ms) is logged at warn; 0 turns that off. Default SLOW_REQUEST_WARN_MS. */
  slowRequestWarnMs?: number;
}

/** Cache opt-out: `x-cco-cache: bypass` (or no-store / off), or `cache-control: no-store|no-cache`. */
function bypassesCache(h: Inbound['headers']): boolean {
  const v = String(h['x-cco-cache'] ?? '').toLowerCase();
  if (v === 'bypass' || v === 'no-store' || v === 'off' || v === 'false' || v === '0') return true;
  return /no-store|no-cache/i.test(String(h['cache-control'] ?? ''));
}

/** Default of `[gateway] slow_request_warn_ms`: the troubleshooting guides' "Response time exceeded 30s". */
export const SLOW_REQUEST_WARN_MS = 30_000;

/** A duration for a log line: 31505 → "31.5s". */
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

const PARAM_FIELDS = ['temperature', 'max_tokens', 'max_completion_tokens', 'top_p', 'top_k', 'stop_sequences', 'stop', 'stream'];

/**
 * The gateway's request path, independent of the web framework: route → cache → provider
 * (breaker, queue, retries, fallbacks) → relay → record. Answers are written straight to the
 * Node response so streams pass through chunk by chunk.
 */
export class GatewayCore {
  readonly providers: ProviderPool;
  readonly active = new ActiveRequests();
  /** This gateway's id in the loop-detection header. */
  readonly hopId = randomUUID().slice(0, 8);
  /** Past this many ms a request is logged as slow; Infinity when that is off, so the check stays one comparison. */
  private slowAfterMs = SLOW_REQUEST_WARN_MS;
  /** The server is shutting down (`stopping`): answers close their connections. */
  private closing = false;

  constructor(private readonly o: GatewayCoreOptions) {
    this.slowRequestWarnMs = o.slowRequestWarnMs ?? SLOW_REQUEST_WARN_MS;
    const b = o.routing.config.breaker;
    this.providers = new ProviderPool({ failureThreshold: b.failure_threshold, openMs: b.open_ms });
    o.routing.onChange((r) => this.providers.configureBreakers({ failureThreshold: r.file.breaker.failure_threshold, openMs: r.file.breaker.open_ms }));
  }

  get cache(): ResponseCache {
    return this.o.cache;
  }

  /** `[gateway] slow_request_warn_ms`: requests slower than this are logged at warn; 0 turns that off. */
  get slowRequestWarnMs(): number {
    return this.slowAfterMs === Infinity ? 0 : this.slowAfterMs;
  }

  set slowRequestWarnMs(ms: number) {
    this.slowAfterMs = ms > 0 ? ms : Infinity;
  }

  /** A shutdown begins: answers from now on, and those not yet started, close their connections. */
  stopping(): void {
    this.closing = true;
    this.active.closeConnectionsWhenAnswered();
  }

  /** The shutdown's grace is over: requests still running are ended with a 503 (a stream: its error event), just before their connections are cut. */
  cutting(): void {
    this.active.kill(0, shuttingDown);
  }

  /** Handles one request to completion; never throws (errors are answered in the client's shape). */
  async handle(inb: Inbound, res: ServerResponse): Promise<void> {
    const ac = new RequestAbort();
    const onClose = () => {
      if (!res.writableFinished) ac.abort(new GatewayError(499, 'client_closed', 'client closed the connection'));
    };
    res.on('close', onClose);
    const model = typeof inb.body.model === 'string' ? inb.body.model : '';
    const stream = inb.body.stream === true;
    const attr = attribution(inb.headers);
    const params: Record<string, unknown> = {};
    for (const f of PARAM_FIELDS) if (inb.body[f] !== undefined) params[f] = inb.body[f];
    const rec: RequestRecord = {
      id: inb.id,
      ts: inb.receivedAt,
      endpoint: inb.endpoint,
      clientFormat: inb.clientFormat,
      provider: '',
      route: '',
      model,
      upstreamModel: model,
      status: 0,
      errorType: null,
      stream,
      cacheHit: false,
      usage: emptyUsage(),
      cost: zeroCost(),
      costSaved: 0,
      latencyMs: 0,
      ttftMs: null,
      retries: 0,
      fallbackFrom: null,
      ...attr,
      cacheKey: null,
      params,
    };
    const act: ActiveRequest = { id: inb.id, startedAt: inb.receivedAt, model, provider: null, endpoint: inb.endpoint, stream, sessionId: attr.sessionId, bytes: 0, state: 'routing', abort: (r) => ac.abort(r), slot: -1, res };
    if (this.closing) res.shouldKeepAlive = false;
    this.active.add(act);
    let firstByteMs: number | undefined;
    try {
      firstByteMs = await this.run(inb, res, rec, act, ac);
    } catch (e) {
      const err = e instanceof GatewayError ? e : ac.aborted && ac.reason instanceof GatewayError ? ac.reason : tooDeep(e) ? new GatewayError(400, 'invalid_request', 'body: JSON nested too deeply to process (thousands of levels)', { field: 'body' }) : new GatewayError(500, 'internal_error', 'Internal gateway error; see the daemon log', { cause: e });
      if (err.code === 'internal_error') this.o.logger.error({ err: (e as Error).message, stack: (e as Error).stack, id: inb.id }, 'gateway request failed');
      rec.status = err.status;
      rec.errorType = err.code;
      this.fail(res, inb, err);
    } finally {
      res.off('close', onClose);
      this.active.remove(act);
      // an answer whose headers said keep-alive before the shutdown began: its connection closes now, not at the next idle sweep
      if (this.closing && res.writableEnded) res.socket?.end();
      rec.latencyMs = Date.now() - inb.receivedAt;
      try {
        this.o.onFinished(rec);
      } catch (e) {
        this.o.logger.warn({ err: (e as Error).message }, 'gateway telemetry failed');
      }
      // the only cost to a fast request: this comparison (slowAfterMs is Infinity when off)
      if (rec.latencyMs > this.slowAfterMs) this.warnSlow(rec, firstByteMs, act.state === 'streaming');
    }
  }

  /**
   * `Response time exceeded 30s`, as troubleshooting guides grep for, with what tells a slow
   * provider from a long answer: the duration, the time to the provider's first byte, whether it
   * streamed, and who sent it. Never the body, its parameters or a key.
   */
  private warnSlow(rec: RequestRecord, firstByteMs: number | undefined, relaying: boolean): void {
    // no time when the relay of an answer failed (its body broke off, the client left): the provider did answer
    const firstByte = firstByteMs !== undefined ? `first byte after ${seconds(firstByteMs)}` : relaying ? 'answer broke off' : 'no answer from a provider';
    this.o.logger.warn(
      {
        id: rec.id,
        model: rec.model,
        upstream_model: rec.upstreamModel,
        route: rec.route,
        provider: rec.provider,
        status: rec.status,
        error: rec.errorType,
        stream: rec.stream,
        cache_hit: rec.cacheHit,
        latency_ms: rec.latencyMs,
        ttfb_ms: firstByteMs ?? null,
        ttft_ms: rec.ttftMs,
        session_id: rec.sessionId,
        agent_id: rec.agentId,
      },
      `Response time exceeded ${this.slowAfterMs / 1000}s: ${seconds(rec.latencyMs)} for ${rec.model || '(no model)'} via ${rec.provider || '(no provider)'}, status ${rec.status}, ${rec.stream ? 'streamed' : 'not streamed'}, ${firstByte}`,
    );
  }

  /** Returns when the provider whose answer was relayed sent its first byte (ms after the request arrived); undefined when none did. */
  private async run(inb: Inbound, res: ServerResponse, rec: RequestRecord, act: ActiveRequest, signal: RequestAbort): Promise<number | undefined> {
    const hops = String(inb.headers[HOP_HEADER] ?? '');
    if (hops.split(',').includes(this.hopId)) throw new GatewayError(508, 'loop_detected', 'This request already passed through this gateway: a route points back at the gateway itself');
    validateBody(inb.endpoint, inb.body);
    // the caller as presented, before the gateway's own credential is taken off: the cache keeps callers apart
    const presented = inb.headers;
    const headers = this.authorize(inb.headers);
    if (headers !== inb.headers) inb = { ...inb, headers };
    const router = this.o.routing.router;
    const primary = router.resolve(rec.model);
    rec.provider = primary.provider;
    rec.route = primary.name;

    if (inb.endpoint === 'count_tokens' && primary.format !== 'anthropic') {
      this.estimateTokens(inb, res, rec);
      return undefined;
    }
    const cacheable = inb.endpoint !== 'count_tokens' && primary.cache && this.o.cache.enabled && !bypassesCache(inb.headers) && !hasUnsafeInteger(inb.body);
    const key = cacheable ? cacheKey(`${inb.clientFormat}:${inb.endpoint}`, inb.body, presented, inb.query, routeTarget(primary)) : undefined;
    rec.cacheKey = key?.key ?? null;
    const cacheHeader = cacheable ? 'MISS' : 'BYPASS';
    if (key) {
      act.state = 'cache';
      const hit = await this.o.cache.lookup(key.key);
      if (hit) {
        await replayCached(hit, res, (n) => (act.bytes += n), { requestId: inb.id, provider: primary.provider });
        rec.cacheHit = true;
        rec.status = hit.status;
        rec.usage = { ...hit.usage }; // the cached entry is shared by every hit: never handed out to be changed
        rec.costSaved = hit.costUsd;
        rec.upstreamModel = hit.model;
        rec.ttftMs = Date.now() - inb.receivedAt;
        return undefined;
      }
    }

    const candidates = [rec.model, ...primary.fallbacks.filter((m) => m !== rec.model)];
    let lastError: GatewayError | undefined;
    // answers that broke off before any byte reached the client, sent again (a route's `retries`)
    let cutRetries = 0;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i] as string;
      const route = i === 0 ? primary : router.resolve(candidate);
      const last = i === candidates.length - 1;
      // a count falling back to an OpenAI-format provider: it has no counting endpoint (sending
      // it there ran a real, billed completion), so the count is estimated
      if (inb.endpoint === 'count_tokens' && route.format !== 'anthropic') {
        this.estimateTokens(inb, res, rec);
        return undefined;
      }
      act.provider = route.provider;
      let answer;
      try {
        answer = await this.send(inb, route, signal, rec, act);
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        if (!(e instanceof GatewayError)) throw e;
        lastError = e;
        const next = candidates[i + 1];
        if (e.code === 'circuit_open' && next !== undefined) this.o.logger.warn({ id: inb.id, provider: route.provider, model: candidate, fallback: next, code: e.code }, 'Circuit breaker open, using fallback');
        else this.o.logger.warn({ id: inb.id, provider: route.provider, model: candidate, code: e.code, error: e.message }, 'upstream attempt failed');
        continue;
      }
      const { res: up, release } = answer;
      const firstByteMs = Date.now() - inb.receivedAt;
      if (this.o.logger.isLevelEnabled('debug')) this.o.logger.debug({ id: inb.id, provider: route.provider, model: candidate, route: route.name, status: up.status, ms: firstByteMs }, 'upstream answered');
      // A final retryable failure moves on to the next fallback; other errors go to the client as they are.
      if (!last && (up.status >= 500 || up.status === 429)) {
        await up.body.dump().catch(() => undefined);
        release();
        lastError = new GatewayError(up.status, 'upstream_error', `${route.provider} answered ${up.status}`);
        continue;
      }
      // the final failure, after the retries and fallbacks the log has already told of
      if (up.status >= 500 || up.status === 429) this.o.logger.warn({ id: inb.id, provider: route.provider, model: candidate, route: route.name, status: up.status }, `upstream request failed: ${route.provider} answered ${up.status} for ${candidate} after its retries; the client gets that answer`);
      if (i > 0) rec.fallbackFrom = rec.model;
      rec.provider = route.provider;
      rec.route = route.name;
      rec.upstreamModel = route.upstreamModel;
      act.state = 'streaming';
      let result: RelayResult;
      try {
        result = await relay(up, res, {
          upstreamFormat: route.format,
          clientFormat: inb.clientFormat,
          clientModel: candidate,
          requestBody: inb.body,
          bridge: bridgeFor(inb.clientFormat, route.format, inb.endpoint),
          dropUsageChunk: addsStreamUsage(inb, route),
          captureLimit: key && up.status === 200 ? this.o.cache.maxEntryBytes : 0,
          secrets: route.keys,
          extraHeaders: { 'x-cco-cache': cacheHeader, 'x-cco-provider': route.provider, 'x-cco-request-id': inb.id },
          signal,
          onBytes: (n) => (act.bytes += n),
          onAborted: (usage, ttftAt) => {
            rec.usage = usage;
            rec.cost = this.o.pricing.cost(route.upstreamModel, usage);
            rec.ttftMs = ttftAt ? ttftAt - rec.ts : null;
          },
        });
      } catch (e) {
        // A body that broke off or an answer the translation could not read, before anything
        // reached the client: an upstream failure (502/504), not the gateway's own (500).
        if (signal.aborted || e instanceof GatewayError || res.headersSent) throw e;
        const err = unreadableAnswer(e, route);
        // a connection that broke off while nothing was relayed yet is a network failure like
        // one before the headers: sent again, as the route's retries allow (the same candidate)
        if (err.code !== 'upstream_invalid_answer' && cutRetries < route.retries) {
          cutRetries++;
          rec.retries++;
          this.providers.get(route.provider, route).breaker.failure();
          this.o.logger.warn({ id: inb.id, provider: route.provider, model: candidate, route: route.name, reason: err.code }, `upstream retry ${cutRetries}/${route.retries} to ${route.provider}: ${err.message}`);
          i--;
          continue;
        }
        throw err;
      } finally {
        release();
      }
      this.finishRecord(rec, route, result);
      // a fallback's answer is not stored under the primary's key: once the primary is back, it answers again
      if (key && i === 0 && result.captured && result.complete && up.status === 200) {
        await this.o.cache
          .store(key.key, { status: 200, headers: result.headers, body: result.captured, stream: result.stream, model: route.upstreamModel, usage: result.usage, costUsd: rec.cost.total, createdAt: Date.now(), fields: key.fields })
          .catch((e: unknown) => this.o.logger.warn({ err: (e as Error).message }, 'cache store failed'));
      }
      return firstByteMs;
    }
    throw lastError ?? new GatewayError(502, 'upstream_error', 'No provider could answer');
  }

  /**
   * Team mode: refuses a request without a gateway credential, and removes that credential from
   * the headers so that only a configured provider key (or the client's own provider key) goes up.
   */
  private authorize(h: IncomingHttpHeaders): IncomingHttpHeaders {
    const auth = this.o.clientAuth;
    if (!auth) return h;
    const explicit = typeof h['x-cco-token'] === 'string' ? h['x-cco-token'] : undefined;
    const cred = clientCredential(h);
    const viaKey = cred !== undefined && auth.isGatewayCredential(cred);
    if (!(explicit !== undefined && auth.isGatewayCredential(explicit)) && !viaKey) {
      throw new GatewayError(401, 'unauthorized', 'This gateway is reachable beyond loopback: send the CCO access token as x-cco-token or as the API key');
    }
    if (!viaKey) return h;
    const { 'x-api-key': _k, authorization: _a, ...rest } = h;
    return rest;
  }

  /**
   * `count_tokens` where no provider can count: an estimate of about 4 characters a token, with
   * images and documents at a fixed cost (their base64 counted as text made one picture 250,000
   * tokens, more than a whole context).
   */
  private estimateTokens(inb: Inbound, res: ServerResponse, rec: RequestRecord): void {
    let chars = 0;
    let media = 0;
    const walk = (v: unknown): void => {
      if (typeof v === 'string') chars += v.length;
      else if (Array.isArray(v)) for (const x of v) walk(x);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (((o.type === 'image' || o.type === 'document') && o.source) || o.type === 'image_url') media++;
        else for (const k in o) walk(o[k]);
      }
    };
    walk([inb.body.system ?? '', inb.body.messages ?? [], inb.body.tools ?? []]);
    const body = JSON.stringify({ input_tokens: Math.max(1, Math.ceil(chars / 4) + media * 1600) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-cco-estimate': 'true' });
    res.end(body);
    rec.status = 200;
  }

  /**
   * GET /v1/models (with its paging query, `?limit=&after_id=`) and GET /v1/models/:id: the
   * provider's answer for the client's format, relayed as is. In team mode the gateway credential
   * is required and kept from the provider, as on every /v1 route.
   */
  async models(format: ClientFormat, headers: IncomingHttpHeaders, res: ServerResponse, opts: { query?: string; id?: string } = {}): Promise<void> {
    const route = this.o.routing.router.resolveProvider(format);
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    try {
      const allowed = this.authorize(headers);
      const ownKey = this.clientsOwnKey(route, allowed);
      const key = ownKey ? undefined : this.o.routing.router.currentKey(route);
      const one = opts.id !== undefined ? `/${encodeURIComponent(opts.id)}` : '';
      const up = await this.o.upstream.request({
        origin: route.origin,
        path: route.basePath + (format === 'anthropic' ? '/v1/models' : '/models') + one + (opts.query ?? ''),
        method: 'GET',
        headers: outgoingHeaders(allowed, { format, clientFormat: format, apiKey: key, hop: this.hopId, passClientKey: ownKey || this.mayPassClientKey(route, allowed) }),
        signal: ac.signal,
        headersTimeoutMs: 30_000,
        bodyTimeoutMs: 30_000,
      });
      // decompressed: the relayed headers drop content-encoding (a compressing proxy in between)
      const bytes = await decodedBody(up).bytes();
      const body = up.status >= 400 ? withoutSecrets(bytes, route.keys) : bytes;
      res.writeHead(up.status, { ...relayHeaders(up.headers), 'content-length': String(body.length) });
      res.end(body);
    } catch (e) {
      const err = e instanceof GatewayError ? e : networkError(e, route);
      if (!res.headersSent && !res.destroyed) {
        const body = JSON.stringify(errorBody(format, err.status, err.message, err.code));
        res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      }
    }
  }

  /**
   * Whether the client's own credential goes upstream on a route with no key configured (see
   * clientKeyPolicy): throws a 401 naming the variable to set when it belongs to another provider.
   */
  private mayPassClientKey(route: ResolvedRoute, headers: IncomingHttpHeaders): boolean {
    if (route.keys.length > 0) return true;
    const clientKey = clientCredential(headers);
    const policy = clientKey === undefined ? 'pass' : clientKeyPolicy(clientKey, route);
    if (policy === 'refuse') {
      const env = route.keyEnv.join(' or ');
      throw new GatewayError(401, 'authentication_error', `No API key is configured for provider ${route.provider}${env ? ` (set ${env} and restart, or set api_key_env in model-routing.json)` : ' (set api_key_env for it in model-routing.json)'}; the client's ${credentialOwner(clientKey as string)} key is not sent to another provider`);
    }
    return policy === 'pass';
  }

  /**
   * Whether the client's own provider credential goes up instead of the route's key: on a
   * built-in provider whose key is only the daemon's environment (`ANTHROPIC_API_KEY`, inherited
   * from whichever shell started the daemon), a client that brings a key this provider issued
   * (Claude Code's login or its own key) is billed as it would be without CCO. A key the routing file
   * names is the team's choice and always goes. (The gateway's own token never counts: it was
   * taken off the headers by `authorize`.)
   */
  private clientsOwnKey(route: ResolvedRoute, headers: IncomingHttpHeaders): boolean {
    if (!route.keysByDefault || route.keys.length === 0) return false;
    const own = clientCredential(headers);
    if (own === undefined) return false;
    // only a key this provider issued (`sk-ant-…`, Claude Code's OAuth `sk-ant-oat…`; OpenAI's
    // `sk-…`): an SDK needs some key to run, and a stand-in (`dummy`) must not replace the real one
    const owner = credentialOwner(own) ?? (/^sk-(?!ant-)[A-Za-z0-9_-]{20,}$/.test(own) ? 'openai' : undefined);
    return owner === route.provider;
  }

  private send(inb: Inbound, route: ResolvedRoute, signal: AbortLike, rec: RequestRecord, act: ActiveRequest) {
    const bridge = bridgeFor(inb.clientFormat, route.format, inb.endpoint);
    let body: Buffer | string;
    if (bridge) body = JSON.stringify(bridge.request(inb.body, route.upstreamModel));
    // another model (a route's `model`, a fallback): only that value changes in what the client sent
    else if (route.upstreamModel !== inb.body.model) body = withModel(inb.raw.toString('utf8'), route.upstreamModel) ?? JSON.stringify({ ...inb.body, model: route.upstreamModel });
    else body = inb.raw; // untouched: unknown fields and formatting reach the provider as sent
    if (!bridge && addsStreamUsage(inb, route)) body = withStreamUsage(body.toString()) ?? body;
    const hops = [String(inb.headers[HOP_HEADER] ?? ''), this.hopId].filter(Boolean).join(',');
    const ownKey = this.clientsOwnKey(route, inb.headers);
    const passClientKey = ownKey || this.mayPassClientKey(route, inb.headers);
    if (this.o.logger.isLevelEnabled('debug')) {
      this.o.logger.debug({ id: inb.id, model: inb.body.model, route: route.name, provider: route.provider, upstream: `${route.origin}${route.basePath}`, upstreamModel: route.upstreamModel, translated: bridge !== undefined, stream: inb.body.stream === true }, 'routing request');
    }
    return sendWithRetries({
      route,
      state: this.providers.get(route.provider, route),
      router: this.o.routing.router,
      upstream: this.o.upstream,
      backoff: this.backoff(),
      path: route.basePath + upstreamPath(inb.endpoint, route.format) + (route.format === inb.clientFormat ? inb.query : ''),
      headers: (apiKey) => outgoingHeaders(inb.headers, { format: route.format, clientFormat: inb.clientFormat, apiKey: ownKey ? undefined : apiKey, hop: hops, passClientKey }),
      body,
      signal,
      onState: (s) => (act.state = s),
      onRetry: (r) => {
        rec.retries++;
        this.o.onRetry?.(route.provider);
        // Retries are rare and worth seeing in `cco daemon logs` and /api/logs (`grep retry`).
        this.o.logger.warn({ id: inb.id, provider: route.provider, model: rec.model, route: route.name, reason: r.reason, delay_ms: Math.round(r.delayMs) }, `upstream retry ${r.retry}/${r.of} to ${route.provider} after ${r.reason}, in ${Math.round(r.delayMs)} ms`);
      },
    });
  }

  private backoff() {
    const r = this.o.routing.config.retry;
    return { baseDelayMs: r.base_delay_ms, maxDelayMs: r.max_delay_ms, maxRetryAfterMs: r.max_retry_after_ms };
  }

  private finishRecord(rec: RequestRecord, route: ResolvedRoute, r: RelayResult): void {
    rec.status = r.complete || r.status >= 400 ? r.status : 502;
    rec.errorType = r.status >= 400 ? 'upstream_error' : r.complete ? null : 'stream_incomplete';
    rec.usage = r.usage;
    rec.cost = this.o.pricing.cost(route.upstreamModel, r.usage);
    rec.ttftMs = r.ttftAt ? r.ttftAt - rec.ts : null;
  }

  /** Answers an error in the client's shape; on a stream already started, the relay has ended it. */
  private fail(res: ServerResponse, inb: Inbound, err: GatewayError): void {
    if (res.headersSent || res.destroyed) {
      // A stream the gateway ended itself (`/api/requests/kill`, shutdown) says so in its own
      // protocol, as a cut upstream stream does; a client that left (499) gets nothing more.
      // (Only a stream's headers go out before its end; writeHead's headers are not readable back.)
      if (!res.writableEnded && !res.destroyed && err.status !== 499 && inb.body.stream === true) {
        res.write(streamErrorEvent(inb.clientFormat, err.status, err.message, err.code));
      }
      // a client that left before any answer: end() writes default headers, and the metrics read
      // the status from them (was 200, where the analytics row says 499)
      if (!res.headersSent) res.statusCode = err.status;
      if (!res.writableEnded) res.end();
      return;
    }
    const body = JSON.stringify(errorBody(inb.clientFormat, err.status === 499 ? 400 : err.status, err.message, err.code, err.opts.field));
    const h: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-cco-request-id': inb.id };
    if (err.opts.retryAfterMs !== undefined) h['retry-after'] = String(Math.ceil(err.opts.retryAfterMs / 1000));
    res.writeHead(err.status === 499 ? 400 : err.status, h);
    res.end(body);
  }
}
