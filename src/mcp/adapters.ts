import type { AgentCatalog } from '../agents/types.js';
import type { GatewayModule } from '../gateway/module.js';
import type { PipelineModule } from '../pipeline/module.js';
import type { SidecarModule } from '../sidecar/module.js';
import type { GatewayOps, PipelineOps, SidecarOps } from './deps.js';
import { sidecarOverHttp } from './sidecar-client.js';

/** The gateway module's cache and breaker operations. */
export function gatewayOps(module: GatewayModule): GatewayOps | string {
  if (!module.gateway) return 'the gateway is disabled ([gateway] enabled = false)';
  return {
    cacheStats: async () => ({ ...(await module.cacheStats()) }),
    breakers: () => module.breakers(),
    resetBreaker: (service) => module.resetBreakers(service),
    queues: () => module.queueDepths(),
  };
}

export function sidecarOps(module: SidecarModule): SidecarOps | string {
  const mint = module.mintAgentToken?.bind(module);
  if (!mint) return 'the sidecar cannot mint agent tokens';
  return sidecarOverHttp({ url: () => module.url(), mint });
}

/** The pipeline module's submit, get and retry. */
export function pipelineOps(module: PipelineModule): PipelineOps {
  return {
    submit: async (i, by) => ({ ...(await module.submit(i, by)) }),
    getTask: async (id, by) => {
      const t = await module.getTask(id, by);
      return t ? { ...t } : undefined;
    },
    retry: async (id, by) => ({ ...(await module.retry(id, by)) }),
  };
}

export const agentsOps = (catalog: AgentCatalog) => ({ list: () => catalog.list() });
