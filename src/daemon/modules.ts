import { catalogOf, loadAgentCatalog } from '../agents/catalog.js';
import type { AgentCatalog } from '../agents/types.js';
import { createDashboardModule } from '../dashboard/module.js';
import { createGatewayModule } from '../gateway/module.js';
import type { GatewayModule } from '../gateway/module.js';
import { createHooksModule } from '../hooks/module.js';
import { createImproveModule } from '../improve/module.js';
import type { ImproveModule } from '../improve/module.js';
import { createMcpModule } from '../mcp/module.js';
import { createPipelineModule } from '../pipeline/module.js';
import type { PipelineModule } from '../pipeline/module.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';
import { createSidecarModule } from '../sidecar/module.js';
import type { SidecarModule } from '../sidecar/module.js';

export interface DaemonModules {
  catalog: AgentCatalog;
  gateway: GatewayModule;
  sidecar: SidecarModule;
  pipeline: PipelineModule;
  improve: ImproveModule;
  /** In mount order. */
  all: DaemonModule[];
}

/** Creates every part of the daemon, each given only what it depends on. */
export async function createModules(ctx: ModuleContext): Promise<DaemonModules> {
  const { catalog, part: catalogPart } = await loadCatalogPart(ctx);
  const gateway = await createGatewayModule(ctx);
  const sidecar = await createSidecarModule(ctx, { catalog });
  const hooks = await createHooksModule(ctx);
  const pipeline = await createPipelineModule(ctx, { catalog });
  const improve = await createImproveModule(ctx, { gateway });
  const mcp = await createMcpModule(ctx, { catalog, gateway, sidecar, pipeline, improve });
  const dashboard = await createDashboardModule(ctx);
  return { catalog, gateway, sidecar, pipeline, improve, all: [catalogPart, gateway, sidecar, hooks, pipeline, improve, mcp, dashboard] };
}

/**
 * A broken agent definition must not keep the daemon down: the error is logged and shown as a
 * degraded `agents` part in /health and `cco status`, and the daemon runs with no catalog.
 */
async function loadCatalogPart(ctx: ModuleContext): Promise<{ catalog: AgentCatalog; part: DaemonModule }> {
  try {
    const catalog = await loadAgentCatalog();
    return { catalog, part: { name: 'agents', health: () => ({ status: 'ok', count: catalog.list().length }) } };
  } catch (e) {
    const error = (e as Error).message;
    ctx.logger.error({ err: error }, 'agent catalog failed to load');
    return { catalog: catalogOf([]), part: { name: 'agents', health: () => ({ status: 'degraded', count: 0, error }) } };
  }
}
