import type { AgentCatalog } from '../agents/types.js';
import type { GatewayModule } from '../gateway/module.js';
import type { PipelineModule } from '../pipeline/module.js';
import type { SidecarModule } from '../sidecar/module.js';
import type { GatewayOps, PipelineOps, SidecarOps } from './deps.js';
import { sidecarOverHttp } from './sidecar-client.js';

/**
 * The gateway's parts the tools use, as the gateway module exposes them (`gateway.cache`,
 * `gateway.core.providers`). Read structurally so that this module only depends on the few
 * members it calls.
 */
interface GatewayParts {
  cache?: { stats(): Promise<Record<string, unknown>> };
  core?: {
    providers?: {
      breakers(): Record<string, { state: string }>;
      resetBreakers(name?: string): string[];
      queues(): Record<string, { depth: number; inFlight: number }>;
    };
  };
}

export function gatewayOps(module: GatewayModule): GatewayOps | string {
  const g = (module as { gateway?: GatewayParts }).gateway;
  if (!g) return 'the gateway is disabled or not built';
  const cache = g.cache;
  const providers = g.core?.providers;
  if (!cache || typeof cache.stats !== 'function' || !providers || typeof providers.breakers !== 'function' || typeof providers.resetBreakers !== 'function') {
    return 'the gateway does not expose cache.stats / core.providers.breakers / resetBreakers';
  }
  return {
    cacheStats: () => cache.stats(),
    breakers: () => providers.breakers(),
    resetBreaker: (service) => providers.resetBreakers(service),
    queues: () => (typeof providers.queues === 'function' ? providers.queues() : {}),
  };
}

export function sidecarOps(module: SidecarModule): SidecarOps | string {
  const mint = module.mintAgentToken?.bind(module);
  if (!mint) return 'the sidecar cannot mint agent tokens';
  return sidecarOverHttp({ url: () => module.url(), mint });
}

export function pipelineOps(module: PipelineModule): PipelineOps | string {
  const p = module as PipelineModule & Partial<{ submit(i: unknown): Promise<object>; getTask(id: string): Promise<object | undefined> }>;
  if (typeof p.submit !== 'function' || typeof p.getTask !== 'function') return 'the pipeline does not expose submit / getTask';
  const submit = p.submit.bind(p);
  const getTask = p.getTask.bind(p);
  return {
    submit: async (i) => (await submit(i)) as unknown as Record<string, unknown>,
    getTask: async (id) => (await getTask(id)) as unknown as Record<string, unknown> | undefined,
  };
}

export const agentsOps = (catalog: AgentCatalog) => ({ list: () => catalog.list() });
