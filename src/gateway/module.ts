import { timingSafeEqual } from 'node:crypto';
import { errorMessage } from '../core/errors.js';
import type { DaemonModule, ModuleContext, PartHealth } from '../server/module.js';
import type { RouteStats } from './analytics/queries.js';
import type { CacheStats } from './cache/response-cache.js';
import { createGateway } from './gateway.js';
import type { Gateway } from './gateway.js';
import type { BreakerState } from './resilience/breaker.js';
import { buildRouter, validateRouting } from './routing/load.js';
import type { RoutingFile } from './routing/schema.js';

export type { RouteStats } from './analytics/queries.js';
export type { CacheStats } from './cache/response-cache.js';
export type { RoutingFile } from './routing/schema.js';

/** The LLM gateway as mounted in the daemon (`/v1/*`, `/api/cache/*`, analytics ...). */
export interface GatewayModule extends DaemonModule {
  readonly name: 'gateway';
  /** The assembled gateway (core, routing, cache, telemetry); undefined when disabled. */
  readonly gateway: Gateway | undefined;
  cacheStats(): Promise<CacheStats>;
  clearCache(): Promise<{ status: 'ok'; cleared: number; freedMemory: string }>;
  /** Circuit breaker per provider seen so far. */
  breakers(): Record<string, { state: BreakerState; consecutiveFailures: number; opens: number; retryInMs: number }>;
  /** Closes one provider's breaker (or all); returns the providers reset. */
  resetBreakers(provider?: string): string[];
  queueDepths(): Record<string, { depth: number; inFlight: number }>;
  /** Per-route telemetry over `[since, until)` (epoch ms), for the improve module. */
  routeStats(window: { since: number; until: number }): Promise<RouteStats[]>;
  getRoutingConfig(): RoutingFile;
  /** Problems with a routing config (empty when it would be accepted). */
  validateRoutingConfig(config: unknown): string[];
  /** Validates and puts a routing config in force now, writing it to the routing file. */
  applyRoutingConfig(config: unknown, meta: { by: string; reason: string; rollback?: boolean }): Promise<void>;
}

const LOOPBACK = /^(127\.|localhost$|::1$|\[::1\]$)/;
const isLoopback = (host: string): boolean => LOOPBACK.test(host);

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function need(g: Gateway | undefined): Gateway {
  if (!g) throw new Error('the gateway is disabled (gateway.enabled = false in daemon.toml)');
  return g;
}

/** Creates the gateway from the daemon's context (config `[gateway]`, store, hub, metrics, env). */
export async function createGatewayModule(ctx: ModuleContext): Promise<GatewayModule> {
  const cfg = ctx.config.gateway;
  const gateway = cfg.enabled
    ? await createGateway({
        store: ctx.store,
        logger: ctx.logger,
        metrics: ctx.metrics,
        hub: ctx.hub,
        env: ctx.env,
        routingFile: cfg.routing_config || ctx.paths.routingConfigFile,
        selfUrls: () => [ctx.selfUrl()],
        cacheSizeMb: cfg.cache_size_mb,
        cacheTtlSeconds: cfg.cache_ttl_seconds,
        slowRequestWarnMs: cfg.slow_request_warn_ms,
        // analytics rows through the daemon's writer thread (SQLite file), which also checkpoints the WAL
        writer: { sql: ctx.writer },
        ...(ctx.redisUrl ? { redisUrl: ctx.redisUrl } : {}),
        ...(cfg.http_proxy ? { httpProxy: cfg.http_proxy } : {}),
        // Beyond loopback every /v1 call needs the daemon's access token (the security layer lets /v1 through to us).
        ...(isLoopback(ctx.config.daemon.host) ? {} : { clientAuth: { isGatewayCredential: (t: string) => safeEqual(t, ctx.accessToken) } }),
      })
    : undefined;
  const selfUrls = () => [ctx.selfUrl()];
  return {
    name: 'gateway',
    gateway,
    ...(gateway
      ? {
          register: (app) => gateway.register(app),
          async start() {
            // The port is known now (it may have been 0): re-check that no route points back at us.
            gateway.routing.revalidate();
          },
          health: (): Promise<PartHealth> => gateway.health(),
          stopping: () => gateway.stopping(),
          cutting: () => gateway.cutting(),
          close: () => gateway.close(),
        }
      : { health: () => ({ status: 'disabled', reason: 'gateway.enabled = false in daemon.toml' }) }),
    cacheStats: () => need(gateway).cache.stats(),
    clearCache: () => need(gateway).cache.clear(),
    breakers: () => gateway?.core.providers.breakers() ?? {},
    resetBreakers: (p) => gateway?.core.providers.resetBreakers(p) ?? [],
    queueDepths: () => gateway?.core.providers.queues() ?? {},
    routeStats: async (w) => {
      const g = need(gateway);
      await g.writer.flush();
      return g.queries.routeStats(w);
    },
    getRoutingConfig: () => structuredClone(need(gateway).routing.config),
    validateRoutingConfig(config) {
      try {
        buildRouter(validateRouting(config, '(proposed config)'), ctx.env, selfUrls(), '(proposed config)');
        return [];
      } catch (e) {
        return [errorMessage(e)];
      }
    },
    async applyRoutingConfig(config, meta) {
      const g = need(gateway);
      // refused (store.apply) while the user's file holds an edit not in force, an undo too: put
      // in force only, the next poll of that file would bring the change back. The cycle then
      // says the change is still in force, and why.
      const r = g.routing.apply(config, { persist: true });
      ctx.logger.info({ by: meta.by, reason: meta.reason, version: r.version, rollback: meta.rollback === true }, 'routing configuration applied');
    },
  };
}
