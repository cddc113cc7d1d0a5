import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Hub } from '../../hub/hub.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { ActiveRequests } from '../proxy/active.js';
import { BREAKER_GAUGE } from '../resilience/providers.js';
import type { ProviderPool } from '../resilience/providers.js';
import { DebugRing } from './debug-ring.js';
import type { DebugEntry } from './debug-ring.js';
import type { RequestRecord } from './record.js';
import type { AnalyticsWriter } from './writer.js';

interface Inc {
  inc(v?: number): void;
}
interface Obs {
  observe(v: number): void;
}
interface Bound {
  requests: Inc;
  latency: Obs;
  ttft: Obs;
  tokens: { input: Inc; output: Inc; cacheRead: Inc; cacheWrite: Inc };
  cost: Inc;
  retries: Inc;
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
}

/**
 * Fans a finished request out to everything that watches the gateway: the analytics writer
 * (batched rows), Prometheus, the live hub (`gateway_request`, drawn by the dashboard) and the
 * in-memory ring behind /api/debug/requests.
 */
export class Telemetry {
  private readonly ring: DebugRing;
  private readonly m;

  constructor(private readonly d: TelemetryDeps) {
    this.ring = new DebugRing(d.ringSize ?? 500);
    const registers = [d.registry];
    this.m = {
      requests: new Counter({ name: 'gateway_requests_total', help: 'Gateway requests by provider, model, status and cache result', labelNames: ['provider', 'model', 'status', 'cache'], registers }),
      latency: new Histogram({
        name: 'gateway_processing_time_seconds',
        help: 'Gateway request latency, end to end (seconds)',
        labelNames: ['provider', 'cache'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
        registers,
      }),
      ttft: new Histogram({ name: 'gateway_time_to_first_token_seconds', help: 'Time to first streamed token (seconds)', labelNames: ['provider'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers }),
      tokens: new Counter({ name: 'gateway_tokens_total', help: 'Tokens by provider, model and kind (input, output, cache_read, cache_write)', labelNames: ['provider', 'model', 'kind'], registers }),
      cost: new Counter({ name: 'gateway_cost_usd_total', help: 'Cost in USD by provider and model', labelNames: ['provider', 'model'], registers }),
      saved: new Counter({ name: 'gateway_cost_saved_usd_total', help: 'Cost saved by cache hits (USD)', registers }),
      hits: new Counter({ name: 'gateway_cache_hits_total', help: 'Response cache hits', registers }),
      misses: new Counter({ name: 'gateway_cache_misses_total', help: 'Response cache misses', registers }),
      retries: new Counter({ name: 'gateway_retries_total', help: 'Upstream retries by provider', labelNames: ['provider'], registers }),
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
        this.set((await d.cache().backend.size()).bytes);
      },
    });
    new Gauge({
      name: 'gateway_cache_entries',
      help: 'Entries in the response cache',
      registers,
      async collect() {
        this.set((await d.cache().backend.size()).entries);
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
   * prom-client hashes a label object on every inc/observe; the children bound to one label set
   * are kept instead (a handful of provider × model × status combinations in practice).
   */
  private readonly bound = new Map<string, Bound>();

  private boundFor(provider: string, model: string, status: number, cache: string): Bound {
    const k = `${provider}\u0000${model}\u0000${status}\u0000${cache}`;
    let b = this.bound.get(k);
    if (!b) {
      b = {
        requests: this.m.requests.labels({ provider, model, status: String(status), cache }),
        latency: this.m.latency.labels({ provider, cache }),
        ttft: this.m.ttft.labels({ provider }),
        tokens: {
          input: this.m.tokens.labels({ provider, model, kind: 'input' }),
          output: this.m.tokens.labels({ provider, model, kind: 'output' }),
          cacheRead: this.m.tokens.labels({ provider, model, kind: 'cache_read' }),
          cacheWrite: this.m.tokens.labels({ provider, model, kind: 'cache_write' }),
        },
        cost: this.m.cost.labels({ provider, model }),
        retries: this.m.retries.labels({ provider }),
      };
      // Bounded: a client sending ever-new model names must not grow this without end.
      if (this.bound.size >= 1000) this.bound.clear();
      this.bound.set(k, b);
    }
    return b;
  }

  record(r: RequestRecord): void {
    this.d.writer.add(r);
    const provider = r.provider || 'none';
    const model = r.upstreamModel || r.model || 'none';
    const cache = r.cacheHit ? 'hit' : r.cacheKey ? 'miss' : 'bypass';
    const b = this.boundFor(provider, model, r.status, cache);
    b.requests.inc();
    b.latency.observe(r.latencyMs / 1000);
    if (r.ttftMs !== null && !r.cacheHit) b.ttft.observe(r.ttftMs / 1000);
    if (r.cacheHit) this.m.hits.inc();
    else if (r.cacheKey) this.m.misses.inc();
    if (r.retries) b.retries.inc(r.retries);
    const u = r.usage;
    if (u.input) b.tokens.input.inc(u.input);
    if (u.output) b.tokens.output.inc(u.output);
    if (u.cacheRead) b.tokens.cacheRead.inc(u.cacheRead);
    if (u.cacheWrite) b.tokens.cacheWrite.inc(u.cacheWrite);
    if (r.cost.total) b.cost.inc(r.cost.total);
    if (r.costSaved) this.m.saved.inc(r.costSaved);
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
