import type { GatewayModule } from '../gateway/module.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';

/** Self-improvement cycles over the gateway's own telemetry. */
export interface ImproveModule extends DaemonModule {
  readonly name: 'improve';
}

export async function createImproveModule(_ctx: ModuleContext, _deps: { gateway: GatewayModule }): Promise<ImproveModule> {
  return { name: 'improve', health: () => ({ status: 'disabled', reason: 'not built yet' }) };
}
