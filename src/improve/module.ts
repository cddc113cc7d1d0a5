import { improveSettings } from '../config/sections/improve.js';
import { AppError } from '../core/errors.js';
import type { GatewayModule } from '../gateway/module.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';
import type { ImproveApi } from './api.js';
import { ImprovementEngine } from './engine.js';
import { improveGatewayOf } from './gateway-adapter.js';
import { gatewayLlm } from './llm.js';
import type { ProposalLlm } from './llm.js';
import { createCycleMetrics } from './metrics.js';
import { ImproveRepo } from './repo.js';
import { registerImproveRoutes } from './routes.js';
import type { ImproveGateway } from './types.js';

export type { ImproveApi, CycleDetail } from './api.js';

/** Self-improvement cycles over the gateway's own telemetry. */
export interface ImproveModule extends DaemonModule, ImproveApi {
  readonly name: 'improve';
}

export interface ImproveDeps {
  gateway: GatewayModule;
  /** Telemetry and routing config to use instead of the gateway module's (tests, `cco proxy`). */
  source?: ImproveGateway;
  /** LLM for proposals instead of the gateway's own `/v1/messages`. */
  llm?: ProposalLlm;
}

/**
 * Improvement cycles (analyse → propose → validate → apply → monitor → keep or roll back), their
 * config versions and history, over REST (`/api/improvement/*`), MCP tools and hub messages
 * (`improvement_cycle`).
 */
export async function createImproveModule(ctx: ModuleContext, deps: ImproveDeps): Promise<ImproveModule> {
  const settings = improveSettings(ctx.config.improve, ctx.env);
  const repo = new ImproveRepo(ctx.store);
  const source = deps.source ?? improveGatewayOf(deps.gateway);
  const unavailable = 'missing' in source ? `the gateway does not expose ${source.missing.join(', ')} yet` : undefined;
  const llm = deps.llm ?? gatewayLlm(() => ctx.selfUrl(), () => ({ 'x-cco-token': ctx.accessToken }));
  const metrics = createCycleMetrics(ctx.metrics);
  const engine = 'missing' in source ? undefined : new ImprovementEngine({ repo, gateway: source, settings: () => settings, logger: ctx.logger.child({ module: 'improve' }), hub: ctx.hub, llm, metrics });
  let timer: NodeJS.Timeout | undefined;

  const need = (): ImprovementEngine => {
    if (!engine || !settings.enabled) throw new AppError(503, 'improve_unavailable', settings.enabled ? `Improvement cycles are unavailable: ${unavailable}` : 'Improvement cycles are disabled ([improve] enabled = false)');
    return engine;
  };

  const mod: ImproveModule = {
    name: 'improve',
    trigger: (o) => need().trigger(o),
    async cancel(id, by) {
      return need().cancel(id, by);
    },
    list: (o) => repo.listCycles(o),
    page: (o) => repo.pageCycles(o),
    async get(id) {
      const c = await repo.getCycle(id);
      return c ? { ...c, history: await repo.events(id) } : undefined;
    },
    versions: (limit) => repo.listVersions(limit),
    version: (id) => repo.getVersion(id),
    settings: () => settings,
    async learningEngine() {
      const hours = settings.analysis_window_hours;
      if (!settings.enabled || 'missing' in source) return { status: settings.enabled ? 'degraded' : 'disabled', telemetry_buffer_size: 0, routes: 0, analysis_window_hours: hours };
      const until = Date.now();
      const stats = await source.routeStats({ since: until - hours * 3600_000, until });
      return { status: 'ok', telemetry_buffer_size: stats.reduce((n, r) => n + Number(r.requests), 0), routes: stats.length, analysis_window_hours: hours };
    },
    register(app) {
      registerImproveRoutes(app, mod);
    },
    async start() {
      await engine?.recover();
      engine?.startHeartbeat();
      if (engine && settings.enabled && settings.auto_cycle_hours > 0) {
        timer = setInterval(() => {
          engine.trigger({ by: 'schedule', reason: `every ${settings.auto_cycle_hours} h` }).catch((e: unknown) => ctx.logger.warn({ err: (e as Error).message }, 'scheduled improvement cycle not started'));
        }, settings.auto_cycle_hours * 3600_000);
        timer.unref();
      }
    },
    async health() {
      if (!settings.enabled) return { status: 'disabled' };
      if (!engine) return { status: 'degraded', reason: unavailable };
      const active = await repo.listCycles({ status: 'in_progress', limit: 100 });
      return { status: 'ok', active_cycles: active.map((c) => ({ id: c.id, phase: c.phase })) };
    },
    async close() {
      if (timer) clearInterval(timer);
      await engine?.close();
    },
  };
  return mod;
}
