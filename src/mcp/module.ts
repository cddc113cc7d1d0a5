import type { AgentCatalog } from '../agents/types.js';
import type { GatewayModule } from '../gateway/module.js';
import type { ImproveModule } from '../improve/module.js';
import type { PipelineModule } from '../pipeline/module.js';
import type { SidecarModule } from '../sidecar/module.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';

export interface McpDeps {
  catalog: AgentCatalog;
  gateway: GatewayModule;
  sidecar: SidecarModule;
  pipeline: PipelineModule;
  improve: ImproveModule;
}

/** The MCP server at `/mcp` (Streamable HTTP); `cco mcp` serves the same tools over stdio. */
export interface McpModule extends DaemonModule {
  readonly name: 'mcp';
}

export async function createMcpModule(_ctx: ModuleContext, _deps: McpDeps): Promise<McpModule> {
  return { name: 'mcp', health: () => ({ status: 'disabled', reason: 'not built yet' }) };
}
