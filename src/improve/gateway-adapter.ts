import type { GatewayModule } from '../gateway/module.js';
import type { ImproveGateway } from './types.js';

const REQUIRED = ['routeStats', 'getRoutingConfig', 'applyRoutingConfig'] as const;

/**
 * The gateway's telemetry and routing config as this module needs them, or the list of what the
 * gateway module does not expose (the cycle then refuses to start with that message).
 */
export function improveGatewayOf(gateway: GatewayModule): ImproveGateway | { missing: string[] } {
  const g = gateway as GatewayModule & Partial<ImproveGateway>;
  const missing = REQUIRED.filter((k) => typeof g[k] !== 'function');
  if (missing.length) return { missing: [...missing] };
  return {
    routeStats: (w) => (g.routeStats as ImproveGateway['routeStats']).call(g, w),
    getRoutingConfig: () => (g.getRoutingConfig as ImproveGateway['getRoutingConfig']).call(g),
    applyRoutingConfig: (c, m) => (g.applyRoutingConfig as ImproveGateway['applyRoutingConfig']).call(g, c, m),
    ...(typeof g.validateRoutingConfig === 'function' ? { validateRoutingConfig: (c) => (g.validateRoutingConfig as NonNullable<ImproveGateway['validateRoutingConfig']>).call(g, c) } : {}),
  };
}
