import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { redact } from '../core/redact.js';
import { buildId } from '../core/version.js';
import type { ModuleContext } from '../server/module.js';
import { parseInput } from '../server/validate.js';
import { verifyLaunchArtifacts } from './verify-artifacts.js';
import type { DaemonModules } from './modules.js';
import { orchestrationEnv } from './orchestration-env.js';

/** The upstream the gateway sends a Claude model to (a route's base_url, else the provider's); null with the gateway off. */
function anthropicUpstream(modules: DaemonModules): string | null {
  const routing = modules.gateway.gateway?.routing;
  if (!routing) return null;
  try {
    const r = routing.router.resolve('claude-sonnet-4-5');
    return `${r.origin}${r.basePath}`;
  } catch {
    return null;
  }
}

/**
 * The daemon's own routes: what the launcher asks for, status, logs and diagnostics.
 */
export function registerDaemonApi(app: FastifyInstance, deps: { ctx: ModuleContext; modules: () => DaemonModules; key: Buffer; ensureLaunchArtifacts(): Promise<void> }): void {
  const { ctx } = deps;

  /** Everything `cco` needs to launch Claude Code, in one round trip. */
  app.post('/api/launcher/session', async (req) => {
    const body = parseInput(z.object({ cwd: z.string().max(4096).optional() }).passthrough(), req.body ?? {}, 'body');
    const modules = deps.modules();
    await deps.ensureLaunchArtifacts();
    const sidecarUrl = modules.sidecar.url();
    const env = orchestrationEnv({ paths: ctx.paths, config: ctx.config, daemonUrl: ctx.selfUrl(), sidecarUrl });
    // The daemon outlives one project: context for this launch comes from the folder it runs in
    // (agents pass it as `root`), not from wherever the daemon happened to start.
    const projectRoot = body.cwd ? modules.sidecar.allowProjectRoot?.(body.cwd) : undefined;
    let agentToken: string | undefined;
    if (modules.sidecar.mintAgentToken) {
      agentToken = await modules.sidecar.mintAgentToken({ agentId: `claude-code-${Date.now().toString(36)}`, agentType: 'orchestrator', issues: '*', ttlSeconds: 12 * 3600 });
    }
    ctx.logger.debug({ cwd: body.cwd }, 'launcher session');
    return {
      version: ctx.version,
      build: buildId(),
      // where Claude Code's requests go from the gateway (the launcher compares the user's ANTHROPIC_BASE_URL)
      anthropic_upstream: anthropicUpstream(modules),
      daemon_url: ctx.selfUrl(),
      gateway_url: ctx.selfUrl(),
      sidecar_url: sidecarUrl ?? null,
      env: { ...env, ...(agentToken ? { ORCHESTRATOR_AGENT_TOKEN: agentToken } : {}), ...(projectRoot ? { ORCHESTRATOR_PROJECT_ROOT: projectRoot } : {}) },
    };
  });

  app.get('/api/status', async () => {
    const modules = deps.modules();
    const parts: Record<string, unknown> = {};
    for (const m of modules.all) parts[m.name] = m.health ? await m.health() : { status: 'ok' };
    let sealed: unknown;
    try {
      sealed = { status: 'ok', ...verifyLaunchArtifacts(ctx.paths, deps.key) };
    } catch (e) {
      sealed = { status: 'down', error: (e as Error).message };
    }
    return {
      version: ctx.version,
      pid: process.pid,
      url: ctx.selfUrl(),
      sidecar_url: modules.sidecar.url() ?? null,
      vfs: ctx.paths.tmpDir,
      store: ctx.store.dialect,
      uptime_seconds: Math.round(process.uptime()),
      memory_usage_mb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      sealed_files: sealed,
      agents: modules.catalog.list().length,
      parts,
    };
  });

  app.get('/api/logs', async (req) => {
    const q = parseInput(
      z.object({ limit: z.coerce.number().int().min(1).max(2000).default(200), level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional() }).strict(),
      req.query,
      'query',
    );
    return { logs: ctx.logs.recent(q.limit, q.level) };
  });

  app.get('/api/diagnostics', async () => {
    const modules = deps.modules();
    const parts: Record<string, unknown> = {};
    for (const m of modules.all) {
      try {
        parts[m.name] = m.health ? await m.health() : { status: 'ok' };
      } catch (e) {
        parts[m.name] = { status: 'down', error: (e as Error).message };
      }
    }
    const recentErrors = ctx.logs.recent(50, 'warn');
    const envKeys = Object.keys(ctx.env).filter((k) => /^(CCO_|ORCHESTRATOR_|ANTHROPIC_|OPENAI_|DATABASE_URL|REDIS_URL|HTTPS?_PROXY|NODE_)/.test(k));
    return redact({
      versions: { cco: ctx.version, node: process.version, platform: `${process.platform}-${process.arch}` },
      config: ctx.config,
      paths: ctx.paths,
      env: Object.fromEntries(envKeys.map((k) => [k, ctx.env[k]])),
      parts,
      recent_errors: recentErrors,
    });
  });
}
