import type { AgentCatalog } from '../agents/types.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';

/** The orchestration sidecar: its own listener (3001), started and stopped by the daemon. */
export interface SidecarModule extends DaemonModule {
  readonly name: 'sidecar';
  /** Base URL once started, e.g. http://127.0.0.1:3001. */
  url(): string | undefined;
  /** Mints an agent JWT (used by the launcher for Claude Code itself). */
  mintAgentToken?(claims: { agentId: string; agentType: string; issues: string[] | '*'; ttlSeconds?: number }): Promise<string>;
}

export async function createSidecarModule(_ctx: ModuleContext, _deps: { catalog: AgentCatalog }): Promise<SidecarModule> {
  return { name: 'sidecar', url: () => undefined, health: () => ({ status: 'disabled', reason: 'not built yet' }) };
}
