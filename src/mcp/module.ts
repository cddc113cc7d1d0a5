import type { AgentCatalog } from '../agents/types.js';
import type { GatewayModule } from '../gateway/module.js';
import type { ImproveModule } from '../improve/module.js';
import type { PipelineModule } from '../pipeline/module.js';
import type { DaemonModule, ModuleContext, PartHealth } from '../server/module.js';
import type { SidecarModule } from '../sidecar/module.js';
import { agentsOps, gatewayOps, pipelineOps, sidecarOps } from './adapters.js';
import { KeyTable } from './auth.js';
import type { McpServices } from './deps.js';
import { registerMcpHttp } from './http.js';

/** How long the MCP sessions stay open once the daemon begins to stop (see `stopping`). */
const MCP_STOP_DELAY_MS = 300;

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

/**
 * The MCP server: every tool a thin wrapper over another module's operations (see `deps.ts`), one
 * MCP session per client, API keys per tenant (`[mcp] keys` plus the daemon's access token).
 */
export async function createMcpModule(ctx: ModuleContext, deps: McpDeps): Promise<McpModule> {
  const cfg = ctx.config.mcp;
  const keys = new KeyTable(cfg, ctx.accessToken, ctx.env);
  const startedAt = Date.now();
  let http: ReturnType<typeof registerMcpHttp> | undefined;
  const health = (): PartHealth =>
    cfg.enabled
      ? { status: 'ok', sessions: http?.sessions() ?? 0, keys: keys.size, ...(keys.unresolved.length ? { unresolved_keys: keys.unresolved } : {}) }
      : { status: 'disabled', reason: '[mcp] enabled = false' };
  const services: McpServices = {
    version: ctx.version,
    startedAt,
    parts: () => [
      deps.gateway,
      deps.sidecar,
      deps.pipeline,
      deps.improve,
      { name: 'mcp', health },
      { name: 'database', health: async () => (await ctx.store.ping().then(() => true, () => false)) ? { status: 'ok' as const, dialect: ctx.store.dialect } : { status: 'down' as const, dialect: ctx.store.dialect } },
    ].filter((m): m is typeof m & { health: NonNullable<typeof m.health> } => typeof m.health === 'function'),
    sidecar: sidecarOps(deps.sidecar),
    gateway: gatewayOps(deps.gateway),
    pipeline: pipelineOps(deps.pipeline),
    agents: agentsOps(deps.catalog),
    improve: deps.improve,
    // the sidecar refuses a longer wait than its own bound (a 400 where a shorter wait was meant)
    maxWaitMs: Math.min(cfg.max_wait_ms, ctx.config.sidecar.wait_max_ms),
    progressIntervalMs: cfg.progress_interval_ms,
  };
  if (keys.unresolved.length) ctx.logger.warn({ keys: keys.unresolved }, 'some MCP keys have no usable value; they are ignored');

  return {
    name: 'mcp',
    register(app) {
      if (!cfg.enabled) return;
      http = registerMcpHttp(app, {
        keys,
        // The SDK and the tools' schemas load with the first MCP session, not at daemon start.
        newServer: async (p) => (await import('./server.js')).createCcoMcpServer(services, p),
        maxSessions: cfg.max_sessions,
        maxSessionsPerTenant: cfg.max_sessions_per_tenant,
        idleMs: cfg.session_idle_seconds * 1000,
        logger: ctx.logger.child({ module: 'mcp' }),
      });
    },
    health,
    stopping() {
      // MCP sessions hold event streams open: they end before the daemon's grace period runs out,
      // but not at once: a tool call in flight (a wait_for_event whose sidecar wait the sidecar's
      // own stopping() has just answered) first gets its result to the client. Closed at once,
      // the call's request to the sidecar was aborted, the client got an empty answer, and the
      // stop waited seconds for the connection it left behind.
      setTimeout(() => void http?.close(), MCP_STOP_DELAY_MS).unref();
    },
    async close() {
      await http?.close();
    },
  };
}
