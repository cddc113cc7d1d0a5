import { catalogOf, loadAgentCatalog } from '../agents/catalog.js';
import { createAuthModule } from '../auth/module.js';
import type { AuthModule } from '../auth/module.js';
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
  auth: AuthModule;
  /** In mount order. */
  all: DaemonModule[];
}

/** Creates every part of the daemon, each given only what it depends on. */
export async function createModules(ctx: ModuleContext): Promise<DaemonModules> {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, create: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await create();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };
  const { catalog, part: catalogPart } = await timed('agents', () => loadCatalogPart(ctx));
  const gateway = await timed('gateway', () => createGatewayModule(ctx));
  const sidecar = await timed('sidecar', () => createSidecarModule(ctx, { catalog }));
  const hooks = await timed('hooks', () => createHooksModule(ctx));
  const pipeline = await timed('pipeline', () => createPipelineModule(ctx, { catalog }));
  const improve = await timed('improve', () => createImproveModule(ctx, { gateway }));
  const mcp = await timed('mcp', () => createMcpModule(ctx, { catalog, gateway, sidecar, pipeline, improve }));
  const dashboard = await timed('dashboard', () => createDashboardModule(ctx));
  const auth = await timed('auth', async () => createAuthModule(ctx));
  ctx.logger.debug({ ms: timings }, 'modules created');
  return { catalog, gateway, sidecar, pipeline, improve, auth, all: [catalogPart, auth, gateway, sidecar, hooks, pipeline, improve, mcp, dashboard] };
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
