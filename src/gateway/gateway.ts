import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';
import type { PartHealth } from '../server/module.js';
import type { Store } from '../store/store.js';
import { PricingTable } from './analytics/pricing.js';
import { QueryProfiler } from './analytics/profiler.js';
import { AnalyticsQueries } from './analytics/queries.js';
import { Telemetry } from './analytics/telemetry.js';
import { AnalyticsWriter } from './analytics/writer.js';
import type { WriterOptions } from './analytics/writer.js';
import { createMemoryBackend } from './cache/memory.js';
import { ResponseCache } from './cache/response-cache.js';
import type { CacheBackend } from './cache/types.js';
import { registerAnalyticsRoutes } from './http/analytics-routes.js';
import { routeTarget } from './routing/router.js';
import { registerCacheRoutes } from './http/cache-routes.js';
import { registerOpsRoutes } from './http/ops-routes.js';
import { installLeanV1 } from './http/lean-v1.js';
import { registerV1Routes } from './http/v1-routes.js';
import { shuttingDown } from './proxy/errors.js';
import { GatewayCore } from './proxy/gateway-core.js';
import { breakerHealth, logBreakerTransition } from './resilience/breaker-report.js';
import { RoutingStore } from './routing/store.js';
import { createUpstream } from './upstream/client.js';
import type { Upstream } from './upstream/client.js';

export interface GatewayOptions {
  store: Store;
  logger: Logger;
  metrics: Registry;
  hub?: Hub;
  env: Record<string, string | undefined>;
  /** model-routing.json (the shipped default is used while it does not exist). */
  routingFile: string;
  /** The gateway's own base URLs (loop check). */
  selfUrls: () => string[];
  cacheSizeMb: number;
  cacheTtlSeconds: number;
  /** Shared Redis cache (`REDIS_URL`) instead of the in-memory one. */
  redisUrl?: string;
  /** A cache backend given directly (tests). */
  cacheBackend?: CacheBackend;
  httpProxy?: string;
  pricingFile?: string;
  watchIntervalMs?: number;
  writer?: WriterOptions;
  /** Tests and benchmarks may wrap the upstream client. */
  upstream?: Upstream;
  /** Team mode (bound beyond loopback): which client credentials are the gateway's own. */
  clientAuth?: { isGatewayCredential(token: string): boolean };
  /** `[gateway] slow_request_warn_ms`: a request slower than this (ms) is logged at warn; 0 turns that off (default 30 s). */
  slowRequestWarnMs?: number;
}

/** Everything the gateway is made of, assembled once; mounted by the daemon module and by `cco proxy`. */
export interface Gateway {
  core: GatewayCore;
  routing: RoutingStore;
  cache: ResponseCache;
  telemetry: Telemetry;
  writer: AnalyticsWriter;
  pricing: PricingTable;
  queries: AnalyticsQueries;
  register(app: FastifyInstance): Promise<void>;
  health(): Promise<PartHealth>;
  /** A shutdown begins (before the server's graceful close): answers close their connections. */
  stopping(): void;
  /** The graceful close's grace is over: requests still running get their 503 before the cut. */
  cutting(): void;
  close(): Promise<void>;
}

export async function createGateway(o: GatewayOptions): Promise<Gateway> {
  const routing = new RoutingStore({ file: o.routingFile, env: o.env, selfUrls: o.selfUrls, logger: o.logger, ...(o.watchIntervalMs ? { watchIntervalMs: o.watchIntervalMs } : {}) });
  const maxBytes = Math.round(o.cacheSizeMb * 1024 * 1024);
  // ioredis loads only in team mode (REDIS_URL): the embedded default should not pay for it.
  const backend = o.cacheBackend ?? (o.redisUrl ? (await import('./cache/redis.js')).createRedisBackend({ url: o.redisUrl, maxBytes }) : createMemoryBackend({ maxBytes }));
  const cache = new ResponseCache(backend, { maxBytes, ttlMs: o.cacheTtlSeconds * 1000, maxEntryBytes: Math.min(maxBytes, 32 * 1024 * 1024) });
  const pricing = PricingTable.load(o.pricingFile);
  const writer = new AnalyticsWriter(o.store, o.logger, o.writer);
  const profiler = new QueryProfiler();
  const queries = new AnalyticsQueries(o.store, profiler);
  const upstream = o.upstream ?? createUpstream({ env: o.env, ...(o.httpProxy ? { httpProxy: o.httpProxy } : {}) });
  // Telemetry reads the core's live state lazily; the core reports to telemetry.
  const holder: { core?: GatewayCore } = {};
  const telemetry = new Telemetry({
    registry: o.metrics,
    hub: o.hub,
    writer,
    providers: () => (holder.core as GatewayCore).providers,
    cache: () => cache,
    active: () => (holder.core as GatewayCore).active,
    onUnpriced: (model) => o.logger.warn({ model }, `no price for model ${model} in the pricing table: its requests show a cost of $0 (add a row to config/pricing.json)`),
  });
  const gatewayLogger = o.logger.child({ module: 'gateway' });
  const c = new GatewayCore({ routing, upstream, cache, pricing, logger: gatewayLogger, onFinished: (r) => telemetry.record(r), onRetry: (p) => telemetry.retried(p), slowRequestWarnMs: o.slowRequestWarnMs, ...(o.clientAuth ? { clientAuth: o.clientAuth } : {}) });
  holder.core = c;
  c.providers.onBreakerTransition((t) => logBreakerTransition(gatewayLogger, t));
  routing.watch();
  return {
    core: c,
    routing,
    cache,
    telemetry,
    writer,
    pricing,
    queries,
    async register(app) {
      await registerV1Routes(app, c);
      // The hot /v1 routes are served by a lean handler ahead of Fastify (see lean-v1.ts).
      installLeanV1(app.server, c, o.metrics);
      registerCacheRoutes(app, cache, (model) => routeTarget(routing.router.resolve(model)));
      registerAnalyticsRoutes(app, { store: o.store, queries, writer });
      registerOpsRoutes(app, { store: o.store, core: c, routing, telemetry, writer, queries, profiler });
    },
    async health() {
      const breakers = c.providers.breakers();
      const rs = routing.status();
      // degraded while a provider's circuit is open (`serving`: the gateway itself still answers)
      const { status, ...circuits } = breakerHealth(breakers);
      return {
        status,
        ...circuits,
        routing: { file: rs.source, version: rs.version, routes: rs.routes, lastError: rs.lastError },
        breakers,
        queues: c.providers.queues(),
        activeRequests: c.active.count,
        cache: { enabled: cache.enabled, backend: backend.kind },
        analytics: { written: writer.written, queued: writer.queued, dropped: writer.dropped, lastError: writer.lastError ?? null },
      };
    },
    stopping: () => c.stopping(),
    cutting: () => c.cutting(),
    async close() {
      routing.close();
      // The server stopped taking requests; those still relaying (their sockets are being closed)
      // finish and are recorded before the writer's last flush.
      await c.active.settle(2000, shuttingDown);
      await writer.close();
      await queries.close().catch(() => undefined);
      await upstream.close().catch(() => undefined);
      await backend.close().catch(() => undefined);
    },
  };
}
