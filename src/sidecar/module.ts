import { takeOwnerLock } from '../core/owner-lock.js';
import { closeGracefully } from '../server/graceful-close.js';
import type { OwnerLock, OwnerRecord } from '../core/owner-lock.js';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AgentCatalog } from '../agents/types.js';
import { sidecarPort } from '../config/daemon-config.js';
import { portInUseMessage } from '../daemon/port-holder.js';
import type { DaemonModule, ModuleContext, PartHealth } from '../server/module.js';
import { DAY_MS, RetentionTimer } from '../store/retention.js';
import { AgentsRepo } from './agents-repo.js';
import { EventBus, LocalNotifier } from './bus.js';
import type { WakeNotifier } from './bus.js';
import { ContextBuilder } from './context.js';
import { registerDaemonRoutes, registerSidecarForwarder, SIDECAR_DISABLED_REASON } from './daemon-routes.js';
import { EventsRepo } from './events-repo.js';
import { Knowledge } from './knowledge.js';
import { ResultsRepo } from './results.js';
import { ProjectRoots } from './roots.js';
import { buildSidecarApp } from './server.js';
import type { SidecarDeps } from './server.js';
import { ProjectSnapshots } from './snapshots.js';
import { AgentTokens } from './tokens.js';
import { localUrl } from '../core/local-url.js';

/** The orchestration sidecar: its own listener (3001), started and stopped by the daemon. */
export interface SidecarModule extends DaemonModule {
  readonly name: 'sidecar';
  /** Base URL once started, e.g. http://127.0.0.1:3001. */
  url(): string | undefined;
  /** Mints an agent JWT (used by the launcher for Claude Code itself). */
  mintAgentToken?(claims: { agentId: string; agentType: string; issues: string[] | '*'; ttlSeconds?: number }): Promise<string>;
  /** Allows context from a launch's project folder (`?root=`); its real path, or undefined when it is no folder. */
  allowProjectRoot?(dir: string): string | undefined;
}

/** The file holding the HS256 key of agent tokens (0600, survives restarts). */
export const agentKeyFile = (home: string): string => join(home, 'sidecar-jwt.key');

/**
 * Wires the sidecar: agent tokens, results, events (in-process bus, or Redis wake-ups when
 * REDIS_URL is set; the store is the source of truth either way), knowledge, context.
 */
export async function createSidecarModule(ctx: ModuleContext, deps: { catalog: AgentCatalog }): Promise<SidecarModule> {
  const cfg = ctx.config.sidecar;
  const tokens = new AgentTokens(agentKeyFile(ctx.paths.home), cfg.token_ttl_seconds);
  // Without Redis on SQLite this daemon is the only writer of the sidecar's tables: agent figures
  // and recent events are kept in memory. Otherwise other daemons write too, and reads go to the store.
  const soleWriter = !ctx.redisUrl && ctx.store.dialect === 'sqlite';
  // the sidecar's writes (results with their knowledge index, events, agents): on a SQLite file a
  // thread with a connection of its own, so statements and commits stay off the event loop
  const writer = ctx.writer;
  const agents = new AgentsRepo(ctx.store, { memory: soleWriter, writer });
  // not registered as an agent here: the launcher mints one for every `cco` run, and an idle
  // Claude Code is no active agent (the seed's status shows 0); its first request registers it
  const mint = async (c: { agentId: string; agentType: string; issues: string[] | '*'; ttlSeconds?: number }): Promise<string> => (await tokens.mint(c)).token;
  // the forwarder's body limit: a result of the largest size plus its envelope
  const maxBodyBytes = cfg.max_result_bytes + 1024;
  if (!cfg.enabled) {
    return {
      name: 'sidecar',
      url: () => undefined,
      mintAgentToken: mint,
      health: () => ({ status: 'disabled', reason: '[sidecar] enabled = false' }),
      // agents calling the daemon's sidecar paths learn it is off (a 503 saying so), not a 404
      register: (daemonApp) => registerSidecarForwarder(daemonApp, { sidecarUrl: () => undefined, unavailableReason: () => SIDECAR_DISABLED_REASON, maxBodyBytes }),
    };
  }
  // only the agents the retention keeps (those that can still matter): a start does not grow with history
  await agents.load(cfg.agent_retention_days > 0 ? { since: Date.now() - cfg.agent_retention_days * DAY_MS } : {});
  const knowledge = new Knowledge(ctx.store, { writer });
  const results = new ResultsRepo(ctx.store, ctx.paths.resultsDir, knowledge, { writer, maxResultBytes: cfg.max_result_bytes, logger: ctx.logger });
  // results acknowledged before a crash whose files or rows did not reach the disk
  try {
    const n = await results.recover();
    if (n) ctx.logger.info({ files: n }, 'sidecar: recovered results (result journal, repairs and files without a row in the store)');
  } catch (e) {
    ctx.logger.error({ err: (e as Error).message }, 'sidecar: result journal recovery failed; it is retried on the next start');
  }
  // ioredis loads only in team mode (REDIS_URL).
  const notifier: WakeNotifier = ctx.redisUrl ? new (await import('./redis-notifier.js')).RedisNotifier(ctx.redisUrl, 'cco:') : new LocalNotifier();
  const events = new EventsRepo(ctx.store, { tail: soleWriter, writer });
  const bus = new EventBus(events, notifier);
  // old events and agents go at start and hourly, through the store's writer (its thread on SQLite)
  const retention = new RetentionTimer(
    [
      { name: 'sidecar_events', days: cfg.event_retention_days, prune: (before, o) => events.prune(before, o) },
      { name: 'sidecar_agents', days: cfg.agent_retention_days, prune: (before, o) => agents.prune(before, o) },
    ],
    { logger: ctx.logger },
  );
  // the daemon's own folders hold its keys and access token: never part of a project's context
  const snapshots = new ProjectSnapshots({ skipDirs: [ctx.paths.home, ctx.paths.runtimeDir, ctx.paths.configDir] });
  const context = new ContextBuilder({ snapshots, results, knowledge, agents }, { maxBytes: cfg.context_max_bytes, defaultFileBytes: cfg.context_file_bytes });
  const roots = new ProjectRoots(cfg.project_root || process.cwd(), cfg.allowed_roots);
  const closing = new AbortController();
  // every parked long-poll listens for shutdown: many listeners are expected, not a leak
  setMaxListeners(0, closing.signal);
  const host = cfg.host;
  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let startError: string | undefined;
  /** The default port it could not have (taken), when the OS chose another. */
  let movedFrom: number | undefined;
  /** This daemon's claim on a SQLite file it writes alone (see start). */
  let owner: OwnerLock<OwnerRecord & { daemon_url: string }> | undefined;

  const sidecarDeps: SidecarDeps = {
    config: cfg,
    version: ctx.version,
    store: ctx.store,
    catalog: deps.catalog,
    tokens,
    agents,
    results,
    knowledge,
    bus,
    context,
    roots,
    hub: ctx.hub,
    metrics: ctx.metrics,
    resultsDir: ctx.paths.resultsDir,
    closing: closing.signal,
    logger: ctx.logger,
  };

  return {
    name: 'sidecar',
    url: () => url,
    mintAgentToken: mint,
    allowProjectRoot: (dir) => roots.allow(dir),
    async register(daemonApp) {
      await registerDaemonRoutes(daemonApp, {
        catalog: deps.catalog,
        tokens,
        agents,
        hub: ctx.hub,
        accessToken: ctx.accessToken,
        host: ctx.config.daemon.host,
        daemonPort: () => Number(new URL(ctx.selfUrl()).port),
        daemonUrl: () => ctx.selfUrl(),
        sidecarUrl: () => url,
      });
      await registerSidecarForwarder(daemonApp, {
        sidecarUrl: () => url,
        unavailableReason: () =>
          startError
            ? `The orchestration sidecar failed to start: ${startError}`
            : 'The orchestration sidecar is not running (starting or stopped); see cco daemon status and cco daemon logs',
        maxBodyBytes,
      });
    },
    async start() {
      // The sole writer must be the only one: a second daemon on the same SQLite file (the same
      // home, two ports) would keep its own memory of recent events and answer waits without the
      // other's (an event skipped for good), and never wake the other's waiters.
      if (soleWriter && ctx.store.location !== ':memory:') {
        const file = `${ctx.store.location}.sidecar-owner`;
        try {
          owner = takeOwnerLock(file, { pid: process.pid, daemon_url: ctx.selfUrl() }, (o) => {
            throw new Error(
              `Another daemon (PID ${o.pid}, ${o.daemon_url}) runs the sidecar on this database (${ctx.store.location}): two daemons on one SQLite database without Redis would miss each other's events. Stop it (cco daemon stop --port ${new URL(o.daemon_url).port}), give this one a home of its own (CCO_HOME), or run both on PostgreSQL and Redis (DATABASE_URL, REDIS_URL).`,
            );
          });
        } catch (e) {
          startError = (e as Error).message;
          throw e;
        }
      }
      // The daemon's port + 1 unless configured; an OS-chosen one beside a daemon on port 0. When
      // that default is taken (an ephemeral port, a daemon on the next port) the OS chooses instead:
      // agents are told the sidecar's URL, so only a configured port is worth failing for.
      const port = sidecarPort(ctx.config);
      const configured = cfg.port !== undefined && cfg.port !== ctx.config.daemon.port;
      const listenOn = async (p: number): Promise<FastifyInstance> => {
        const built = (await buildSidecarApp(sidecarDeps, { host })).app;
        try {
          await built.listen({ port: p, host });
          return built;
        } catch (e) {
          await built.close().catch(() => undefined);
          throw e;
        }
      };
      try {
        try {
          app = await listenOn(port);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || configured || port === 0) throw e;
          ctx.logger.warn({ port }, `sidecar port ${port} is taken; the OS chooses another (set [sidecar] port to fix one)`);
          app = await listenOn(0);
          movedFrom = port;
        }
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        owner?.release();
        owner = undefined;
        startError = err.code === 'EADDRINUSE' ? `Sidecar failed to start: Address already in use. ${portInUseMessage(port, 'sidecar', 'set [sidecar] port in daemon.toml or CCO_SIDECAR_PORT', host)}` : err.message;
        throw new Error(startError, { cause: e });
      }
      const addr = app.server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      url = localUrl(host, actual);
      ctx.logger.info({ url, bus: notifier.kind, project_root: roots.defaultRoot }, 'sidecar listening');
      retention.start();
    },
    async health(): Promise<PartHealth> {
      if (!url) return { status: startError ? 'down' : 'starting', ...(startError ? { error: startError } : {}) };
      const ok = await bus.healthy();
      const s = bus.stats();
      return { status: ok ? 'ok' : 'degraded', url, ...(movedFrom !== undefined ? { moved_from_port: movedFrom } : {}), bus: s.backend, waiters: s.waiters, subscriptions: s.subscriptions, subscriptions_behind: s.subscriptions_behind };
    },
    stopping() {
      // waits and subscriptions (also those proxied through /api/orchestration/*) answer now
      closing.abort();
    },
    async close() {
      closing.abort();
      if (app) await closeGracefully(app);
      app = undefined;
      url = undefined;
      snapshots.close();
      // a prune batch in progress finishes before its writer closes
      await retention.stop();
      await bus.close();
      await results.close();
      owner?.release();
      owner = undefined;
    },
  };
}
