import type { DaemonModule, ModuleContext, PartHealth } from '../server/module.js';
import { createGateway } from './gateway.js';
import type { Gateway } from './gateway.js';

/** The LLM gateway as mounted in the daemon (`/v1/*`, `/api/cache/*`, analytics ...). */
export interface GatewayModule extends DaemonModule {
  readonly name: 'gateway';
  /** The assembled gateway (core, routing, cache, telemetry); undefined when disabled. */
  readonly gateway: Gateway | undefined;
}

/** Creates the gateway from the daemon's context (config `[gateway]`, store, hub, metrics, env). */
export async function createGatewayModule(ctx: ModuleContext): Promise<GatewayModule> {
  const cfg = ctx.config.gateway;
  if (!cfg.enabled) return { name: 'gateway', gateway: undefined, health: () => ({ status: 'disabled', reason: 'gateway.enabled = false in daemon.toml' }) };
  const gateway = await createGateway({
    store: ctx.store,
    logger: ctx.logger,
    metrics: ctx.metrics,
    hub: ctx.hub,
    env: ctx.env,
    routingFile: cfg.routing_config || ctx.paths.routingConfigFile,
    selfUrls: () => [ctx.selfUrl()],
    cacheSizeMb: cfg.cache_size_mb,
    cacheTtlSeconds: cfg.cache_ttl_seconds,
    ...(cfg.http_proxy ? { httpProxy: cfg.http_proxy } : {}),
  });
  return {
    name: 'gateway',
    gateway,
    register: (app) => gateway.register(app),
    async start() {
      // The port is known now (it may have been 0): re-check that no route points back at us.
      gateway.routing.revalidate();
    },
    health: (): Promise<PartHealth> => gateway.health(),
    close: () => gateway.close(),
  };
}
