import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Hub } from '../../hub/hub.js';
import { FastHistogram } from '../../server/fast-histogram.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { ActiveRequests } from '../proxy/active.js';
import { BREAKER_GAUGE } from '../resilience/providers.js';
import type { ProviderPool } from '../resilience/providers.js';
import { DebugRing } from './debug-ring.js';
import type { DebugEntry } from './debug-ring.js';
import type { RequestRecord } from './record.js';
import type { AnalyticsWriter } from './writer.js';

/** Distinct `model` label values in /metrics; later models count as `other`. */
export const MAX_MODEL_LABELS = 200;
/** What a model name is made of (Anthropic, OpenAI, Bedrock, Vertex, OpenRouter, local names). */
const MODEL_NAME = /^[\w.:/@+-]+$/;

interface Obs {
  observe(v: number): void;
}
/**
 * One label set: its histogram children, and its counter increments not yet handed to
 * prom-client (they are when /metrics is read, see flushCounts).
 */
interface Bound {
  provider: string;
  model: string;
  status: number;
  cache: string;
  latency: Obs;
  ttft: Obs;
  requests: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  cost: number;
}

export interface TelemetryDeps {
  registry: Registry;
  hub: Hub | undefined;
  writer: AnalyticsWriter;
  providers: () => ProviderPool;
  cache: () => ResponseCache;
  active: () => ActiveRequests;
  /** How many finished requests /api/debug/requests keeps. */
  ringSize?: number;
  /** Told once per model that used tokens and has no row in the pricing table (its cost shows as $0). */
  onUnpriced?(model: string): void;
}

/**
 * Fans a finished request out to everything that watches the gateway: the analytics writer
 * (batched rows), Prometheus, the live hub (`gateway_request`, drawn by the dashboard) and the
 * in-memory ring behind /api/debug/requests.
 */
export class Telemetry {
  private readonly ring: DebugRing;
  private readonly m;
  private readonly unpricedSeen = new Set<string>();

  constructor(private readonly d: TelemetryDeps) {
    this.ring = new DebugRing(d.ringSize ?? 500);
    const registers = [d.registry];
    // Counters are counted in plain numbers per request and handed to prom-client when /metrics is
    // read: prom-client hashes and validates the labels and allocates on every inc(), even on a
    // bound child (seven of them per request).
    const flush = () => this.flushCounts();
    this.m = {
      requests: new Counter({ name: 'gateway_requests_total', help: 'Gateway requests by provider, model, status and cache result', labelNames: ['provider', 'model', 'status', 'cache'], registers, collect: flush }),
      latency: new FastHistogram({
        name: 'gateway_processing_time_seconds',
        help: 'Gateway request latency, end to end (seconds)',
        labelNames: ['provider', 'cache'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
        registers,
      }),
      ttft: new FastHistogram({ name: 'gateway_time_to_first_token_seconds', help: 'Time to first streamed token (seconds)', labelNames: ['provider'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers }),
      tokens: new Counter({ name: 'gateway_tokens_total', help: 'Tokens by provider, model and kind (input, output, cache_read, cache_write)', labelNames: ['provider', 'model', 'kind'], registers, collect: flush }),
      cost: new Counter({ name: 'gateway_cost_usd_total', help: 'Cost in USD by provider and model', labelNames: ['provider', 'model'], registers, collect: flush }),
      saved: new Counter({ name: 'gateway_cost_saved_usd_total', help: 'Cost saved by cache hits (USD)', registers, collect: flush }),
      hits: new Counter({ name: 'gateway_cache_hits_total', help: 'Response cache hits', registers, collect: flush }),
      misses: new Counter({ name: 'gateway_cache_misses_total', help: 'Response cache misses', registers, collect: flush }),
      retries: new Counter({ name: 'gateway_retries_total', help: 'Upstream retries by the provider retried', labelNames: ['provider'], registers }),
      unpriced: new Counter({ name: 'gateway_unpriced_requests_total', help: 'Requests that used tokens of a model with no row in the pricing table (their cost shows as 0)', labelNames: ['model'], registers }),
    };
    new Gauge({
      name: 'gateway_circuit_breaker_state',
      help: 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const [n, s] of d.providers().entries()) this.set({ provider: n }, BREAKER_GAUGE[s.breaker.state]);
      },
    });
    new Gauge({
      name: 'gateway_queue_depth',
      help: 'Requests waiting for a provider concurrency slot',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const [n, s] of d.providers().entries()) this.set({ provider: n }, s.queue.depth);
      },
    });
    new Gauge({
      name: 'gateway_upstream_in_flight',
      help: 'Requests in flight to each provider',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const [n, s] of d.providers().entries()) this.set({ provider: n }, s.queue.inFlight);
      },
    });
    new Gauge({
      name: 'gateway_active_requests',
      help: 'Gateway requests in progress',
      registers,
      collect() {
        this.set(d.active().count);
      },
    });
    new Gauge({
      name: 'gateway_cache_size_bytes',
      help: 'Bytes held by the response cache',
      registers,
      async collect() {
        // a cache backend that is down (Redis) leaves the figure as it was; /metrics still answers
        const s = await d.cache().backend.size().catch(() => undefined);
        if (s) this.set(s.bytes);
      },
    });
    new Gauge({
      name: 'gateway_cache_entries',
      help: 'Entries in the response cache',
      registers,
      async collect() {
        const s = await d.cache().backend.size().catch(() => undefined);
        if (s) this.set(s.entries);
      },
    });
    new Gauge({
      name: 'gateway_analytics_queue_depth',
      help: 'Analytics rows waiting to be written',
      registers,
      collect() {
        this.set(d.writer.queued);
      },
    });
  }

  /**
   * Label sets seen (a handful of provider × model × status × cache combinations in practice),
   * with their histogram children bound once and their pending counts.
   */
  private readonly bound = new Map<string, Bound>();
  /** The label set of the previous request: most requests share it (no key string to build). */
  private last: Bound | undefined;
  private pending = { hits: 0, misses: 0, saved: 0 };

  private boundFor(provider: string, model: string, status: number, cache: string): Bound {
    const l = this.last;
    if (l !== undefined && l.status === status && l.provider === provider && l.model === model && l.cache === cache) return l;
    const k = `${provider}\u0000${model}\u0000${status}\u0000${cache}`;
    let b = this.bound.get(k);
    if (!b) {
      b = {
        provider,
        model,
        status,
        cache,
        latency: this.m.latency.labels({ provider, cache }),
        ttft: this.m.ttft.labels({ provider }),
        requests: 0,
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite: 0,
        cost: 0,
      };
      // Bounded: a client sending ever-new model names must not grow this without end (the
      // counts of the sets dropped are handed over first).
      if (this.bound.size >= 1000) {
        this.flushCounts();
        this.bound.clear();
      }
      this.bound.set(k, b);
    }
    this.last = b;
    return b;
  }

  private readonly models = new Set<string>();

  /**
   * The `model` label of a request: the model is the client's to choose, and each new label value
   * is a series Prometheus keeps for good. Names that do not look like a model (control
   * characters, over 100 characters) and any model past the first MAX_MODEL_LABELS are `other`.
   */
  private modelLabel(model: string): string {
    if (this.models.has(model)) return model;
    if (model.length > 100 || !MODEL_NAME.test(model) || this.models.size >= MAX_MODEL_LABELS) return 'other';
    this.models.add(model);
    return model;
  }

  /** Hands the counts gathered since the last call to prom-client (before /metrics is read). */
  flushCounts(): void {
    const m = this.m;
    for (const b of this.bound.values()) {
      if (b.requests === 0) continue;
      const { provider, model, requests, input, output, cacheRead, cacheWrite, cost } = b;
      // zeroed first: a value prom-client refuses must not stay and fail every later read
      b.requests = b.input = b.output = b.cacheRead = b.cacheWrite = b.cost = 0;
      if (requests) m.requests.inc({ provider, model, status: String(b.status), cache: b.cache }, requests);
      if (input > 0) m.tokens.inc({ provider, model, kind: 'input' }, input);
      if (output > 0) m.tokens.inc({ provider, model, kind: 'output' }, output);
      if (cacheRead > 0) m.tokens.inc({ provider, model, kind: 'cache_read' }, cacheRead);
      if (cacheWrite > 0) m.tokens.inc({ provider, model, kind: 'cache_write' }, cacheWrite);
      if (cost > 0) m.cost.inc({ provider, model }, cost);
    }
    const p = this.pending;
    if (p.hits) m.hits.inc(p.hits);
    if (p.misses) m.misses.inc(p.misses);
    if (p.saved) m.saved.inc(p.saved);
    p.hits = p.misses = p.saved = 0;
  }

  /** An upstream retry to `provider` (rare: counted at once). */
  retried(provider: string): void {
    this.m.retries.inc({ provider });
  }

  record(r: RequestRecord): void {
    this.d.writer.add(r);
    const provider = r.provider || 'none';
    const model = this.modelLabel(r.upstreamModel || r.model || 'none');
    const cache = r.cacheHit ? 'hit' : r.cacheKey ? 'miss' : 'bypass';
    const b = this.boundFor(provider, model, r.status, cache);
    b.requests++;
    b.latency.observe(r.latencyMs / 1000);
    if (r.ttftMs !== null && !r.cacheHit) b.ttft.observe(r.ttftMs / 1000);
    if (r.cacheHit) this.pending.hits++;
    else if (r.cacheKey) this.pending.misses++;
    const u = r.usage;
    // a cache hit's usage is the original answer's: no provider saw those tokens this time
    if (!r.cacheHit) {
      b.input += u.input;
      b.output += u.output;
      b.cacheRead += u.cacheRead;
      b.cacheWrite += u.cacheWrite;
    }
    b.cost += r.cost.total;
    if (!r.cost.priced && !r.cacheHit && u.input + u.output + u.cacheRead + u.cacheWrite > 0) {
      // $0 that is not free: visible in /metrics and, once per model, in the log
      this.m.unpriced.inc({ model });
      if (!this.unpricedSeen.has(model) && this.unpricedSeen.size < 1000) {
        this.unpricedSeen.add(model);
        this.d.onUnpriced?.(model);
      }
    }
    this.pending.saved += r.costSaved;
    this.ring.add(r);
    this.d.hub?.publish('gateway_request', {
      id: r.id,
      model: r.model,
      upstreamModel: r.upstreamModel,
      provider: r.provider,
      status: r.status,
      latencyMs: r.latencyMs,
      ttftMs: r.ttftMs,
      stream: r.stream,
      cacheHit: r.cacheHit,
      // whether the cache could have answered it (hit rates are over these)
      cacheable: r.cacheKey !== null,
      tokens: { input: u.input, output: u.output, cacheRead: u.cacheRead, cacheWrite: u.cacheWrite },
      costUsd: r.cost.total,
      costSavedUsd: r.costSaved,
      sessionId: r.sessionId,
      agentId: r.agentId,
      errorType: r.errorType,
    });
  }

  /** The most recent finished requests, newest first, as /api/debug/requests shows them. */
  recent(limit: number): DebugEntry[] {
    return this.ring.recent(limit);
  }
}
