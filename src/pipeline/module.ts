import type { AgentCatalog } from '../agents/types.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';

/** The headless pipeline: requirements become tasks run through agent stages. */
export interface PipelineModule extends DaemonModule {
  readonly name: 'pipeline';
}

export async function createPipelineModule(_ctx: ModuleContext, _deps: { catalog: AgentCatalog }): Promise<PipelineModule> {
  return { name: 'pipeline', health: () => ({ status: 'disabled', reason: 'not built yet' }) };
}
