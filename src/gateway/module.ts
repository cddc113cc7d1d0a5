import type { DaemonModule, ModuleContext } from '../server/module.js';

/** The LLM gateway as mounted in the daemon (`/v1/*`, `/api/cache/*`, analytics ...). */
export interface GatewayModule extends DaemonModule {
  readonly name: 'gateway';
}

export async function createGatewayModule(_ctx: ModuleContext): Promise<GatewayModule> {
  return { name: 'gateway', health: () => ({ status: 'disabled', reason: 'not built yet' }) };
}
