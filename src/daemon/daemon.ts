import type { FastifyInstance } from 'fastify';
import { loadDaemonConfig } from '../config/daemon-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { daemonLogFile, resolvePaths } from '../config/paths.js';
import type { Env, Paths } from '../config/paths.js';
import { createLogger } from '../core/logger.js';
import { mark, startupMarks } from '../core/startup-marks.js';
import type { Logger } from '../core/logger.js';
import { buildId, cliEntry, version } from '../core/version.js';
import { Hub } from '../hub/hub.js';
import { registerHubWebSocket } from '../hub/ws-route.js';
import { buildApp } from '../server/app.js';
import { CLOSE_GRACE_MS, closeGracefully } from '../server/graceful-close.js';
import { HEALTH_CHECK_MS, registerHealth } from '../server/health.js';
import { createMetricsRegistry } from '../server/metrics.js';
import { installRateLimits } from '../server/rate-limit.js';
import { isLoopback } from '../server/security.js';
import type { ModuleContext, PartHealth } from '../server/module.js';
import { sqlWriterFor } from '../store/sql-writer.js';
import { openStore, PG_APPLICATION_NAME } from '../store/store.js';
import type { Store } from '../store/store.js';
import { redactString } from '../core/redact.js';
import { shellQuote } from '../core/shell-quote.js';
import { withTimeout } from '../core/timeout.js';
import { writeLaunchArtifacts } from './artifacts.js';
import { acquireLock } from './lock.js';
import type { DaemonInfo } from './lock.js';
import { createModules } from './modules.js';
import type { DaemonModules } from './modules.js';
import { portInUseMessage } from './port-holder.js';
import { loadAccessToken, loadSealingKey } from './secret-files.js';
import { registerDaemonApi } from './api.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { claudeMcpConfigFile } from '../mcp/claude-mcp-config.js';
import { localUrl } from '../core/local-url.js';
import { SIDECAR_FORWARDED_PREFIXES } from '../sidecar/daemon-routes.js';
import { loadDotenv, logDotenv } from './dotenv.js';
import { DAEMON_REDIS_OPTIONS } from './redis-client.js';

export interface DaemonOptions {
  env?: Env;
  /** Overrides of the loaded config (flags). */
  port?: number;
  host?: string;
  logLevel?: DaemonConfig['daemon']['log_level'];
  /** Also print JSON logs to stdout. */
  logStdout?: boolean;
  /** Config already loaded (tests); otherwise daemon.toml + env. */
  config?: DaemonConfig;
  paths?: Paths;
  /** The command a "port in use" message proposes, `{port}` standing for a free one (default: `cco daemon start --port {port}`). */
  portHint?: string;
}

export interface RunningDaemon {
  url: string;
  port: number;
  paths: Paths;
  config: DaemonConfig;
  info: DaemonInfo;
  app: FastifyInstance;
  store: Store;
  modules: DaemonModules;
  logger: Logger;
  accessToken: string;
  hub: Hub;
  close(): Promise<void>;
}

export class DaemonStartError extends Error {
  constructor(
    message: string,
    readonly code: 'port_in_use' | 'already_running' | 'config_invalid' | 'database_open_failed' | 'start_failed',
  ) {
    super(message);
    this.name = 'DaemonStartError';
  }
}


/**
 * Starts the daemon in this process: config, store, parts, the HTTP server, the launch files,
 * then the sidecar. Startup order follows the seeds: load config (defaults on first run),
 * database, temp settings files, HTTP server, signal readiness.
 */
export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  mark('startDaemon');
  const env = opts.env ?? process.env;
  const paths = opts.paths ?? resolvePaths(env);
  // CCO's variables from `.env` files (the seeds' advice): the config folder's, and provider keys
  // only from the folder it starts in (a project's); a daemon given its own env (tests, the demo) reads none
  const dotenv = opts.env === undefined ? loadDotenv(env, { configDir: paths.configDir, projectDir: process.cwd() }) : undefined;
  const loaded = opts.config ?? loadDaemonConfig(paths, env);
  const config: DaemonConfig = {
    ...loaded,
    daemon: {
      ...loaded.daemon,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.logLevel ? { log_level: opts.logLevel } : {}),
    },
  };
  mark('config');
  const startedAt = Date.now();
  // read now, not at the first launch: an update replaces the file under a running daemon
  buildId();
  const requestedPort = config.daemon.port;
  const host = config.daemon.host;
  // the home holds keys, logs, analytics and results: the user's only (when created here)
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const logFile = daemonLogFile(paths, requestedPort);
  const info: DaemonInfo = { pid: process.pid, port: requestedPort, host, startedAt, version: version(), logFile };
  // Port 0 cannot collide; its lock is taken once the OS has chosen.
  let lock = requestedPort !== 0 ? acquireLock(paths, info) : undefined;
  const { logger, buffer: logs, ready: logReady, flush: flushLog } = createLogger({ level: config.daemon.log_level, file: logFile, ...(opts.logStdout ? { stdout: true } : {}) });
  const cleanup: (() => Promise<void> | void)[] = [() => lock?.release()];
  if (dotenv) logDotenv(dotenv, logger);
  const fail = async (e: unknown): Promise<never> => {
    // into the daemon log too: every failure message sends the user there (`cco daemon logs`)
    logger.fatal({ err: (e as Error).message, code: (e as { code?: unknown }).code }, 'daemon failed to start');
    await flushLog().catch(() => undefined);
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw e;
  };

  let store: Store;
  try {
    store = await openStore({
      ...(config.storage.database_url ? { databaseUrl: config.storage.database_url } : {}),
      sqlitePath: config.storage.sqlite_path || paths.databaseFile,
      sqliteCacheKib: config.storage.sqlite_cache_kib,
      pgPoolSize: config.storage.pg_pool_max,
      ...(config.storage.pg_schema ? { pgSchema: config.storage.pg_schema } : {}),
      pgApplicationName: `${PG_APPLICATION_NAME}-daemon`,
    });
  } catch (e) {
    return fail(new DaemonStartError((e as Error).message, 'database_open_failed'));
  }
  cleanup.push(() => store.close());
  // the writes kept off the event loop (sidecar, gateway analytics): closed after the modules, before the store
  const writer = sqlWriterFor(store);
  cleanup.push(() => writer.close());
  mark('store');

  await logReady;
  const key = loadSealingKey(paths.keyFile);
  let accessToken: string;
  try {
    accessToken = loadAccessToken(paths.tokenFile, env);
  } catch (e) {
    return fail(new DaemonStartError((e as Error).message, 'start_failed'));
  }
  const hub = new Hub();
  logs.subscribe((rec) => {
    if (rec.level !== 'trace' && rec.level !== 'debug') hub.publish('log', rec);
  });
  const metrics = createMetricsRegistry();
  let port = requestedPort;
  const selfUrl = () => localUrl(host, port);
  const ctx: ModuleContext = {
    config,
    paths,
    store,
    writer,
    logger,
    logs,
    hub,
    metrics,
    redisUrl: config.storage.redis_url || undefined,
    accessToken,
    version: version(),
    selfUrl,
    env,
  };

  // The daemon's own Redis connection (team mode): rate-limit counters and the /health check.
  const redis = ctx.redisUrl ? new (await import('ioredis')).Redis(ctx.redisUrl, DAEMON_REDIS_OPTIONS) : undefined;
  if (redis) {
    redis.on('error', () => undefined); // reported by /health; rate limits let requests through meanwhile
    cleanup.push(() => void redis.disconnect());
  }

  let modules: DaemonModules;
  let ensureLaunchArtifacts = async (): Promise<void> => undefined;
  let app: FastifyInstance;
  try {
    modules = await createModules(ctx);
    mark('modules created');
    app = await buildApp({
      logger,
      metrics,
      trustProxy: config.daemon.trust_proxy,
      security: { host, accessToken, port: () => port, selfAuthenticated: ['/v1/', '/mcp', ...SIDECAR_FORWARDED_PREFIXES, '/api/agents/spawn', '/api/auth/'], users: modules.auth },
    });
    await installRateLimits(app, config.rate_limits, { redis, namespace: `${config.pipeline.queue_prefix}:rl:`, loopbackBind: isLoopback(host), exempt: ['/api/hooks/', ...SIDECAR_FORWARDED_PREFIXES] });
    registerHealth(app, {
      version: version(),
      startedAt,
      port: () => port,
      parts: () => modules.all,
      extra: async (): Promise<Record<string, PartHealth>> => {
        const [database, redisCheck] = await Promise.all([
          // bounded: a database that accepts and never answers made /health take 10 s, past
          // the probes' 3 s timeouts (a timeout instead of the 503 that says what is wrong)
          withTimeout(store.ping(), HEALTH_CHECK_MS, 'the database').then(
            (): PartHealth => ({ status: 'ok', dialect: store.dialect, location: store.location }),
            (e: unknown): PartHealth => ({ status: 'down', dialect: store.dialect, error: (e as Error).message }),
          ),
          redis ? pingRedis(redis) : undefined,
        ]);
        return { database, ...(redisCheck ? { redis: redisCheck } : {}) };
      },
    });
    registerHubWebSocket(app, hub);
    registerDaemonApi(app, { ctx, modules: () => modules, key, ensureLaunchArtifacts: () => ensureLaunchArtifacts() });
    for (const m of modules.all) await m.register?.(app);
    mark('routes');
  } catch (e) {
    return fail(new DaemonStartError(`Daemon failed to start: ${(e as Error).message}`, 'start_failed'));
  }
  cleanup.push(() => app.close());
  cleanup.push(async () => {
    for (const m of [...modules.all].reverse()) await m.close?.().catch(() => undefined);
  });

  try {
    await app.listen({ port: requestedPort, host });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      return fail(new DaemonStartError(portInUseMessage(requestedPort, 'daemon', opts.portHint ?? 'cco daemon start --port {port}', host), 'port_in_use'));
    }
    if (err.code === 'EACCES') return fail(new DaemonStartError(`Permission denied binding ${host}:${requestedPort}; use a port above 1024 (--port)`, 'start_failed'));
    return fail(e);
  }
  mark('listening');
  const address = app.server.address();
  port = typeof address === 'object' && address ? address.port : requestedPort;
  if (!lock) {
    lock = acquireLock(paths, { ...info, port });
  }
  info.port = port;
  // Team mode: every instance's live messages reach every instance's /ws (the dashboard behind a
  // load balancer needs no sticky sessions). After listen: messages name this instance by its port.
  const hubRelay = ctx.redisUrl ? new (await import('../hub/relay.js')).HubRelay(hub, { url: ctx.redisUrl, prefix: `${config.pipeline.queue_prefix}:`, instance: `${hostname()}:${port}`, logger }) : undefined;
  if (hubRelay) cleanup.push(() => hubRelay.close());

  try {
    for (const m of modules.all) {
      const t0 = performance.now();
      await m.start?.();
      logger.debug({ module: m.name, ms: Math.round(performance.now() - t0) }, 'module started');
    }
  } catch (e) {
    return fail(new DaemonStartError(`Daemon failed to start: ${(e as Error).message}`, 'start_failed'));
  }
  mark('modules started');
  const sidecarUrl = modules.sidecar.url();
  if (sidecarUrl) {
    info.sidecarPort = Number(new URL(sidecarUrl).port);
  }
  lock.update(info);
  const writeArtifacts = () => writeLaunchArtifacts({ paths, config, key, daemonUrl: selfUrl(), sidecarUrl, catalog: modules.catalog, hookCommand: `${shellQuote(process.execPath)} ${shellQuote(cliEntry())} hook`, mcpKey: accessToken, version: version() });
  // The launch files have fixed names in the temp folder (the seeds' `/tmp/.cco-orchestrator-settings`):
  // a daemon on another port with the same temp folder may have written them since. The launcher's
  // session is the moment they must be this daemon's.
  ensureLaunchArtifacts = async () => {
    let mine = false;
    try {
      mine = readFileSync(claudeMcpConfigFile(paths.tmpDir), 'utf8').includes(`"${selfUrl()}/mcp"`);
    } catch {
      mine = false;
    }
    if (!mine) {
      logger.info({ tmpDir: paths.tmpDir }, 'launch files were written by another daemon: writing them again for this one');
      await writeArtifacts();
    }
  };
  try {
    await writeArtifacts();
  } catch (e) {
    return fail(new DaemonStartError(`Failed to write temp file in ${paths.tmpDir}: ${(e as Error).message}. Check that the temp directory exists and is writable (chmod 755 $TMPDIR)`, 'start_failed'));
  }
  mark('launch files');
  logger.debug({ ms: startupMarks() }, 'startup phases');
  logger.info({ port, host, sidecar: sidecarUrl, store: store.dialect, ms: Date.now() - startedAt }, 'daemon started');
  // on disk before anyone is told the daemon runs (`cco daemon start` returns): a daemon started
  // with --port 0 is found in the shared port-0 log by this line's port, even after a crash
  await flushLog().catch(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    url: selfUrl(),
    port,
    paths,
    config,
    info,
    app,
    store,
    modules,
    logger,
    accessToken,
    hub,
    close() {
      closing ??= (async () => {
        logger.info('daemon stopping');
        for (const m of modules.all) m.stopping?.();
        await closeGracefully(app, CLOSE_GRACE_MS, { beforeCut: () => modules.all.forEach((m) => m.cutting?.()) });
        await hubRelay?.close();
        for (const m of [...modules.all].reverse()) await m.close?.().catch((e: unknown) => logger.warn({ err: (e as Error).message, module: m.name }, 'close failed'));
        await writer.close().catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'store writer close failed'));
        await store.close();
        redis?.disconnect();
        lock?.release();
        logger.info('daemon stopped');
        logger.flush();
      })();
      return closing;
    },
  };
}

/** Redis for /health: a PING answered within a second (the client's own retries would wait longer). */
async function pingRedis(redis: { ping(): Promise<string> }): Promise<PartHealth> {
  const t0 = performance.now();
  try {
    await withTimeout(redis.ping(), 1000, 'Redis');
    return { status: 'ok', latency_ms: Math.round((performance.now() - t0) * 10) / 10 };
  } catch (e) {
    return { status: 'down', error: `Redis is unreachable: ${redactString((e as Error).message)}` };
  }
}
