import cluster from 'node:cluster';
import { closeGracefully } from '../server/graceful-close.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';
import { dbCacheKibFromEnv } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { errorMessage } from '../core/errors.js';
import { createLogger, LOG_LEVELS } from '../core/logger.js';
import type { LogLevel } from '../core/logger.js';
import { redact } from '../core/redact.js';
import { version } from '../core/version.js';
import { portInUseMessage } from '../daemon/port-holder.js';
import { loadAccessToken } from '../daemon/secret-files.js';
import { createGateway } from '../gateway/gateway.js';
import type { Gateway } from '../gateway/gateway.js';
import { tuneHeap } from '../gateway/heap.js';
import { buildApp } from '../server/app.js';
import { createMetricsRegistry } from '../server/metrics.js';
import { parseInput } from '../server/validate.js';
import { CheckpointThread } from '../store/checkpoint-thread.js';
import { openStore } from '../store/store.js';
import type { Store } from '../store/store.js';
import { fatal, parsePort } from './common.js';
import { localUrl } from '../core/local-url.js';

/** `cco proxy` flags (the seeds' `cco-proxy`). */
export interface ProxyOptions {
  port: number;
  host: string;
  dbPath: string;
  workers: number;
  cacheSizeMb: number;
  cacheTtlSeconds: number;
  logLevel: LogLevel;
  httpProxy: string | undefined;
  config: string;
}

/**
 * SQLite's page cache in the standalone gateway (KiB) unless CCO_DB_CACHE_SIZE says otherwise.
 * The proxy's database work is appending analytics rows (a few pages at the end of the table
 * and of each index); the store's 16 MB default, filled as the table grows, was a tenth of the
 * process's memory. The analytics queries read the rest through the OS page cache.
 */
export const PROXY_SQLITE_CACHE_KIB = 4096;

/** `--db-path :memory:`: SQLite's in-memory database. */
const IN_MEMORY = ':memory:';

/** The largest `--workers` we accept: more processes than 2× the cores only adds memory and context switches. */
export const maxWorkers = (): number => 2 * availableParallelism();

/** Refuses an unreasonable worker count with the seeds' message and the recommended value. */
export function checkWorkers(raw: string): number {
  const n = Number(raw);
  const cpus = availableParallelism();
  if (!Number.isInteger(n) || n < 1 || n > 2 * cpus) {
    fatal(`Workers configuration invalid: --workers ${raw} (use 1 to ${2 * cpus}; max recommended is 2x CPU cores). Recommended: --workers ${cpus}`, 2);
  }
  return n;
}

function parseOptions(args: string[]): ProxyOptions {
  const cmd = new Command('cco proxy')
    .description('Run the LLM gateway alone (port 8000): /v1 provider APIs, cache, routing, analytics and its admin API')
    .option('--port <port>', 'port (0 lets the OS choose)', '8000')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--db-path <file>', 'SQLite analytics database (DATABASE_URL wins; :memory: keeps it in memory, gone at exit)')
    .option('--workers <n>', 'processes sharing the port (1 to 2x CPU cores)', '1')
    .option('--cache-size <MB>', 'response cache bound in MB (0 disables)', '500')
    .option('--cache-ttl <seconds>', 'cache entry lifetime; 0 disables the cache', '3600')
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
    .option('--http-proxy <url>', 'outbound proxy for provider calls (also HTTP_PROXY / HTTPS_PROXY)')
    .option('--config <file>', 'model-routing.json (default: ~/.config/cco/model-routing.json, else the shipped one)')
    .exitOverride();
  try {
    cmd.parse(args, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode ?? 2;
    process.exit(code);
  }
  const o = cmd.opts<{ port: string; host: string; dbPath?: string; workers: string; cacheSize: string; cacheTtl: string; logLevel: string; httpProxy?: string; config?: string }>();
  const cacheSize = Number(o.cacheSize);
  if (!Number.isFinite(cacheSize) || cacheSize < 0) fatal(`Invalid --cache-size ${o.cacheSize}: a size in MB (e.g. 500), 0 disables the cache`, 2);
  const cacheTtl = Number(o.cacheTtl);
  if (!Number.isInteger(cacheTtl) || cacheTtl < 0) fatal(`Invalid --cache-ttl ${o.cacheTtl}: seconds (e.g. 3600), 0 disables the cache`, 2);
  if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel)) fatal(`Invalid --log-level ${o.logLevel}: use trace, debug, info, warn or error`, 2);
  if (o.httpProxy !== undefined && !/^https?:\/\/[^\s]+$/.test(o.httpProxy)) fatal(`Invalid --http-proxy ${o.httpProxy}: use a URL such as http://proxy.company.com:8080`, 2);
  // a file named on the command line must exist: falling back to the shipped routes would hide a typo
  if (o.config !== undefined && !existsSync(o.config)) fatal(`--config ${o.config}: no such file (give the path of a model-routing.json, or leave --config out to use ~/.config/cco/model-routing.json or the shipped one)`, 2);
  const paths = resolvePaths();
  return {
    port: parsePort(o.port),
    host: o.host,
    // SQLite's in-memory database is a name, not a path: resolved, it became a file named ':memory:'
    dbPath: o.dbPath === IN_MEMORY ? IN_MEMORY : resolve(o.dbPath ?? paths.databaseFile),
    workers: checkWorkers(o.workers),
    cacheSizeMb: cacheSize,
    cacheTtlSeconds: cacheTtl,
    logLevel: o.logLevel as LogLevel,
    httpProxy: o.httpProxy,
    config: resolve(o.config ?? paths.routingConfigFile),
  };
}

/** `cco proxy`: one process, or a primary forking `--workers` processes that share the port. */
export async function main(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  // the name the guides look for (`top | grep cco-proxy`, lsof's COMMAND column)
  process.title = `cco-proxy${cluster.isWorker ? ' worker' : ''} --port ${opts.port}`;
  if (opts.workers > 1 && cluster.isPrimary) return runPrimary(opts);
  // The serving process bounds its heap growth under load (see gateway/heap.ts; user flags win).
  tuneHeap();
  let server: RunningProxy;
  try {
    // the primary migrates a file once for all workers; an in-memory database is each process's own
    server = await startProxyServer(opts, { migrate: !cluster.isWorker || opts.dbPath === IN_MEMORY });
  } catch (e) {
    process.stderr.write(`❌ ${errorMessage(e)}\n`);
    if (cluster.isWorker) {
      // The IPC channel would keep a failed worker alive, and the primary would never replace it.
      process.send?.({ type: 'cco-proxy-failed', message: errorMessage(e) }, undefined, {}, () => process.exit(1));
      await new Promise(() => undefined);
    }
    return 1;
  }
  if (cluster.isWorker) process.send?.({ type: 'cco-proxy-listening', url: server.url });
  else process.stdout.write(`Listening on ${server.url}\n`);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.close().then(done, done);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (cluster.isWorker) process.on('disconnect', stop);
  });
  // A worker's IPC channel to the primary would keep it alive after a graceful stop.
  if (cluster.isWorker) process.exit(0);
  return 0;
}

/** The primary: migrates once, forks the workers, prints the URL when the first listens, restarts crashed ones. */
async function runPrimary(opts: ProxyOptions): Promise<number> {
  try {
    const store = await openStore({ ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}), sqlitePath: opts.dbPath });
    await store.close();
  } catch (e) {
    process.stderr.write(`❌ ${errorMessage(e)}\n`);
    return 1;
  }
  let stopping = false;
  let announced = false;
  let listening = 0;
  let live = 0;
  /** Workers that reported listening (by cluster id). */
  const served = new Set<number>();
  /** Delay before replacing a worker that could not start (doubles, up to 30 s; reset by one that starts). */
  let backoffMs = 0;
  const retries = new Set<NodeJS.Timeout>();
  return new Promise<number>((done) => {
    const fork = () => {
      live++;
      cluster.fork();
    };
    cluster.on('message', (w, msg: { type?: string; url?: string; message?: string }) => {
      if (msg?.type === 'cco-proxy-listening') {
        served.add(w.id);
        backoffMs = 0;
        // Announce once every worker listens, so the first requests can reach any of them.
        if (!announced && ++listening >= opts.workers) {
          announced = true;
          process.stdout.write(`Listening on ${msg.url} (${opts.workers} workers)\n`);
        }
      } else if (msg?.type === 'cco-proxy-failed' && !announced) {
        process.stderr.write(`❌ ${msg.message}\n`);
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.kill();
        done(1);
      }
    });
    cluster.on('exit', (w, code, signal) => {
      live--;
      const started = served.delete(w.id);
      if (stopping) {
        if (live === 0) done(0);
        return;
      }
      if (started) {
        process.stderr.write(`worker ${w.process.pid} exited (${signal ?? code}); starting a new one\n`);
        fork();
        return;
      }
      // A replacement that could not start (a routing file broken since, the database gone):
      // tried again with backoff, so the gateway comes back to full strength once it is fixed.
      backoffMs = Math.min(30_000, Math.max(1000, backoffMs * 2));
      process.stderr.write(`worker ${w.process.pid} could not start (${signal ?? code}); ${served.size} of ${opts.workers} workers serving; trying again in ${backoffMs / 1000} s\n`);
      const t = setTimeout(() => {
        retries.delete(t);
        if (!stopping) fork();
      }, backoffMs);
      retries.add(t);
    });
    const stop = () => {
      stopping = true;
      for (const t of retries) clearTimeout(t);
      retries.clear();
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      if (live === 0) done(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (let i = 0; i < opts.workers; i++) fork();
  });
}

export interface RunningProxy {
  url: string;
  port: number;
  app: FastifyInstance;
  gateway: Gateway;
  store: Store;
  close(): Promise<void>;
}

/**
 * The standalone gateway server: the same core and routes as in the daemon, with its own
 * store, /health, /metrics, /api/logs and /api/diagnostics.
 */
export async function startProxyServer(opts: ProxyOptions, o: { migrate?: boolean; env?: Record<string, string | undefined> } = {}): Promise<RunningProxy> {
  const env = o.env ?? process.env;
  const paths = resolvePaths(env);
  const { logger, buffer: logs } = createLogger({ level: opts.logLevel, stdout: true });
  const startedAt = Date.now();
  let store: Store;
  try {
    store = await openStore({ ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}), sqlitePath: opts.dbPath, sqliteCacheKib: dbCacheKibFromEnv(env) ?? PROXY_SQLITE_CACHE_KIB, migrate: o.migrate !== false });
  } catch (e) {
    throw new Error(`Failed to open database: ${errorMessage(e)}`, { cause: e });
  }
  // WAL checkpoints off the event loop (SQLite file): see store/checkpoint-thread.ts
  const checkpoints = new CheckpointThread(store);
  checkpoints.start();
  const metrics = createMetricsRegistry();
  let port = opts.port;
  const selfUrl = () => localUrl(opts.host, port);
  const accessToken = loadAccessToken(paths.tokenFile, env);
  const loopback = /^(127\.|localhost$|::1$)/.test(opts.host);
  let gateway: Gateway;
  try {
    gateway = await createGateway({
      store,
      logger,
      metrics,
      env,
      routingFile: opts.config,
      selfUrls: () => [selfUrl()],
      cacheSizeMb: opts.cacheSizeMb,
      cacheTtlSeconds: opts.cacheTtlSeconds,
      ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
      ...(opts.httpProxy ? { httpProxy: opts.httpProxy } : {}),
      // Bound beyond loopback, /v1 callers must present the access token (x-cco-token or as their API key).
      ...(loopback ? {} : { clientAuth: { isGatewayCredential: (t: string) => t === accessToken } }),
    });
  } catch (e) {
    await checkpoints.stop();
    await store.close();
    throw e instanceof ConfigError ? e : new Error(`Gateway failed to start: ${errorMessage(e)}`, { cause: e });
  }
  const app = await buildApp({ logger, metrics, security: { host: opts.host, accessToken, port: () => port, selfAuthenticated: ['/v1/'] } });
  await gateway.register(app);
  const info = { service: 'cco-proxy', version: version() };
  app.get('/', async () => ({ ...info, endpoints: ['POST /v1/messages', 'POST /v1/messages/count_tokens', 'POST /v1/chat/completions', 'GET /v1/models', 'GET /health', 'GET /metrics', 'GET /api/cache/stats'] }));
  app.get('/health', async (_req, reply) => {
    let database: Record<string, unknown>;
    try {
      await store.ping();
      database = { status: 'ok', dialect: store.dialect };
    } catch (e) {
      database = { status: 'down', error: errorMessage(e) };
    }
    const gw = await gateway.health();
    const ok = database.status === 'ok' && gw.status === 'ok';
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', ...info, pid: process.pid, uptime_seconds: Math.round((Date.now() - startedAt) / 1000), memory_usage_mb: Math.round(process.memoryUsage().rss / 2 ** 20), checks: { database, gateway: gw } });
  });
  app.get('/api/logs', async (req) => {
    const q = parseInput(z.object({ limit: z.coerce.number().int().min(1).max(2000).default(200), level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional() }).strict(), req.query, 'query');
    return { logs: logs.recent(q.limit, q.level) };
  });
  app.get('/api/diagnostics', async () =>
    redact({
      ...info,
      node: process.version,
      pid: process.pid,
      options: { ...opts },
      store: { dialect: store.dialect, location: store.location },
      routing: gateway.routing.status(),
      routingConfig: gateway.routing.config,
      health: await gateway.health(),
      cache: await gateway.cache.stats(),
      recentErrors: logs.recent(50, 'warn'),
    }),
  );
  try {
    await app.listen({ port: opts.port, host: opts.host });
  } catch (e) {
    await app.close();
    await gateway.close();
    await checkpoints.stop();
    await store.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(portInUseMessage(opts.port, 'cco proxy', 'cco proxy --port {port}'));
    throw e;
  }
  port = (app.server.address() as { port: number }).port;
  gateway.routing.revalidate();
  logger.info({ port, host: opts.host, workers: opts.workers, cache: gateway.cache.config }, 'cco proxy listening');
  return {
    url: selfUrl(),
    port,
    app,
    gateway,
    store,
    async close() {
      await closeGracefully(app);
      await gateway.close();
      await checkpoints.stop();
      await store.close();
      logger.flush();
    },
  };
}
