import type { GatewayModule } from '../gateway/module.js';
import type { ImproveGateway, RoutingConfig } from './types.js';

/**
 * The gateway's telemetry (`routeStats` over its analytics table) and routing config (`get`,
 * `validate`, `apply`, which also writes model-routing.json so a version survives a restart), or
 * why they are unavailable (the cycle then refuses to start with that message).
 */
export function improveGatewayOf(gateway: GatewayModule): ImproveGateway | { missing: string[] } {
  if (!gateway.gateway) return { missing: ['the gateway (disabled in daemon.toml)'] };
  return {
    routeStats: (w) => gateway.routeStats(w),
    getRoutingConfig: () => gateway.getRoutingConfig() as unknown as RoutingConfig,
    validateRoutingConfig: (c) => gateway.validateRoutingConfig(c),
    applyRoutingConfig: (c, meta) => gateway.applyRoutingConfig(c, meta),
  };
}
