import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { CLOSE_GRACE_MS, closeGracefully } from '../server/graceful-close.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';
import { dbCacheKibFromEnv, dbPoolMaxFromEnv, pgSchemaFromEnv } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { AppError, errorMessage } from '../core/errors.js';
import { createLogger, LOG_LEVELS } from '../core/logger.js';
import type { LogLevel } from '../core/logger.js';
import { redact } from '../core/redact.js';
import { version } from '../core/version.js';
import { portInUseMessage } from '../daemon/port-holder.js';
import { loadAccessToken } from '../daemon/secret-files.js';
import { createGateway } from '../gateway/gateway.js';
import type { Gateway } from '../gateway/gateway.js';
import type { ClearedCache } from '../gateway/cache/response-cache.js';
import { tuneHeap } from '../core/heap.js';
import { buildApp } from '../server/app.js';
import { WorkerMetricsHistory, createMetricsRegistry, workerMetrics } from '../server/metrics.js';
import type { MetricData } from '../server/metrics.js';
import { parseInput } from '../server/validate.js';
import { sqlWriterFor } from '../store/sql-writer.js';
import { openStore, PG_APPLICATION_NAME } from '../store/store.js';
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
  /** `--slow-request-warn`: a request slower than this (ms) is logged at warn; 0 turns that off (default 30 s). */
  slowRequestWarnMs?: number;
}

/**
 * SQLite's page cache in the standalone gateway (KiB) unless CCO_DB_CACHE_SIZE says otherwise.
 * The proxy's database work is appending analytics rows (a few pages at the end of the table
 * and of each index); the store's 16 MB default, filled as the table grows, was a tenth of the
 * process's memory. The analytics queries read the rest through the OS page cache. 2 MB (and the
 * writer thread's connection takes the same): with 8 MB semi-spaces the bench's peak was 146–148 MB
 * at 4 MB, 141–144 MB at 2 MB (the target is 150).
 */
export const PROXY_SQLITE_CACHE_KIB = 2048;

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
    .option('--slow-request-warn <ms>', 'log a request slower than this at warn ("Response time exceeded 30s"); 0 turns it off', '30000')
    .option('--config <file>', 'model-routing.json (default: ~/.config/cco/model-routing.json, else the shipped one)')
    .exitOverride();
  try {
    cmd.parse(args, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode ?? 2;
    process.exit(code);
  }
  const o = cmd.opts<{ port: string; host: string; dbPath?: string; workers: string; cacheSize: string; cacheTtl: string; logLevel: string; httpProxy?: string; config?: string; slowRequestWarn: string }>();
  const cacheSize = Number(o.cacheSize);
  if (!Number.isFinite(cacheSize) || cacheSize < 0) fatal(`Invalid --cache-size ${o.cacheSize}: a size in MB (e.g. 500), 0 disables the cache`, 2);
  const cacheTtl = Number(o.cacheTtl);
  if (!Number.isInteger(cacheTtl) || cacheTtl < 0) fatal(`Invalid --cache-ttl ${o.cacheTtl}: seconds (e.g. 3600), 0 disables the cache`, 2);
  const slowRequestWarn = Number(o.slowRequestWarn);
  if (!Number.isInteger(slowRequestWarn) || slowRequestWarn < 0) fatal(`Invalid --slow-request-warn ${o.slowRequestWarn}: milliseconds (e.g. 30000), 0 turns the warning off`, 2);
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
    slowRequestWarnMs: slowRequestWarn,
  };
}

/** `cco proxy`: one process, or a primary forking `--workers` processes that share the port. */
export async function main(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  // the name the guides look for (`top | grep cco-proxy`, lsof's COMMAND column)
  process.title = `cco-proxy${cluster.isWorker ? ' worker' : ''} --port ${opts.port}`;
  if (opts.workers > 1 && cluster.isPrimary) return runPrimary(opts);
  // The serving process bounds its heap growth under load (see core/heap.ts; user flags win).
  tuneHeap();
  let server: RunningProxy;
  try {
    // the primary migrates a file once for all workers; an in-memory database is each process's own
    server = await startProxyServer(opts, { migrate: !cluster.isWorker || opts.dbPath === IN_MEMORY, clusterWorker: cluster.isWorker });
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
    const store = await openStore({ ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}), sqlitePath: opts.dbPath, pgPoolSize: dbPoolMaxFromEnv(process.env), pgSchema: pgSchemaFromEnv(process.env), pgApplicationName: `${PG_APPLICATION_NAME}-proxy` });
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
  /** Workers that said they are closing (a SIGTERM of their own): no longer asked to gather, replaced once they exit. */
  const leaving = new Set<number>();
  /** Delay before replacing a worker that could not start (doubles, up to 30 s; reset by one that starts). */
  let backoffMs = 0;
  const retries = new Set<NodeJS.Timeout>();
  // structured clone: metric values may be NaN or Infinity, which JSON turns into null
  cluster.setupPrimary({ serialization: 'advanced' });
  const history = new WorkerMetricsHistory();
  return new Promise<number>((done) => {
    const fork = () => {
      live++;
      cluster.fork();
    };
    const serving = (): Worker[] => [...served].map((id) => cluster.workers?.[id]).filter((w): w is Worker => w !== undefined && w.isConnected());
    cluster.on('message', (w, msg: { type?: string; url?: string; message?: string }) => {
      if (msg?.type === COLLECTED) {
        partAnswered(w, msg as unknown as AnswerMessage);
      } else if (msg?.type === ASK) {
        void answerAsk(w, msg as unknown as AskMessage, serving(), history);
      } else if (msg?.type === 'cco-proxy-listening') {
        served.add(w.id);
        backoffMs = 0;
        // Announce once every worker listens, so the first requests can reach any of them.
        if (!announced && ++listening >= opts.workers) {
          announced = true;
          process.stdout.write(`Listening on ${msg.url} (${opts.workers} workers)\n`);
        }
      } else if (msg?.type === LEAVING) {
        if (served.delete(w.id)) leaving.add(w.id);
      } else if (msg?.type === 'cco-proxy-failed' && !announced) {
        process.stderr.write(`❌ ${msg.message}\n`);
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.kill();
        done(1);
      }
    });
    cluster.on('exit', (w, code, signal) => {
      live--;
      partsLeftOut(w);
      void history.exited(w.id);
      const started = served.delete(w.id) || leaving.delete(w.id);
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
    const force = () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    };
    const stop = () => {
      // a second Ctrl-C (or SIGTERM) ends the workers at once, as a user pressing it again means
      if (stopping) return force();
      stopping = true;
      for (const t of retries) clearTimeout(t);
      retries.clear();
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      if (live === 0) done(0);
      // their graceful close takes at most its grace and the cut (CLOSE_GRACE_MS + a few s): past that, ended
      else setTimeout(force, WORKERS_STOP_DEADLINE_MS).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (let i = 0; i < opts.workers; i++) fork();
  });
}

// ---- what the workers of `--workers N` share through the primary ----

/**
 * What a worker asks the primary to gather from every worker serving: their metrics (for one
 * `/metrics` over all of them) or a cache clear (each worker has a cache of its own).
 */
type Gathered = 'metrics' | 'cache-clear';
/** worker → primary: gather `what`; answered with ANSWER and the same id. */
const ASK = 'cco-proxy-ask';
const ANSWER = 'cco-proxy-answer';
/** primary → each worker: your part of `what`; answered with COLLECTED and the same id. */
const COLLECT = 'cco-proxy-collect';
const COLLECTED = 'cco-proxy-collected';
interface AskMessage {
  type: typeof ASK | typeof COLLECT;
  id: number;
  what: Gathered;
}
interface AnswerMessage {
  type: typeof ANSWER | typeof COLLECTED;
  id: number;
  answer?: unknown;
  error?: string;
}
/**
 * worker → primary: closing (its graceful close can take as long as its longest request); the
 * primary stops asking it for its part, so the other workers' /metrics do not wait on it.
 */
const LEAVING = 'cco-proxy-leaving';
/** How long a stop waits for the workers' graceful close before it ends them (their grace is CLOSE_GRACE_MS). */
const WORKERS_STOP_DEADLINE_MS = CLOSE_GRACE_MS + 10_000;

/** How long the primary waits for every worker's part; a worker waits a little longer for the whole. */
const GATHER_TIMEOUT_MS = 5000;
const ASK_TIMEOUT_MS = GATHER_TIMEOUT_MS + 2000;

let collections = 0;

/**
 * Parts being gathered, by gather and worker: answered from the primary's own `message` and `exit`
 * listeners (one listener per gather on each worker went past Node's 10-listener warning with 11
 * `/metrics` at once). Undefined: the worker exited, and is left out.
 */
const waitingParts = new Map<string, (msg: AnswerMessage | undefined) => void>();
const partKey = (gatherId: number, workerId: number): string => `${gatherId}:${workerId}`;

/** The primary's listeners: a worker's part arrived, or the worker exited (every part it owed is left out). */
function partAnswered(w: Worker, msg: AnswerMessage): void {
  waitingParts.get(partKey(msg.id, w.id))?.(msg);
}
function partsLeftOut(w: Worker): void {
  for (const [key, settle] of [...waitingParts]) if (key.endsWith(`:${w.id}`)) settle(undefined);
}

/** Asks each of `workers` for its part of `what`; a worker that exits meanwhile is left out, one that does not answer fails the whole. */
async function gather(workers: Worker[], what: Gathered): Promise<unknown[]> {
  return [...(await gatherByWorker(workers, what)).values()];
}

/** `gather`, each part under its worker's id. */
function gatherByWorker(workers: Worker[], what: Gathered): Promise<Map<number, unknown>> {
  const id = ++collections;
  const one = (w: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      const key = partKey(id, w.id);
      const settle = (msg: AnswerMessage | undefined) => {
        clearTimeout(timer);
        waitingParts.delete(key);
        if (msg === undefined) resolve(undefined);
        else if (msg.error === undefined) resolve(msg.answer);
        else reject(new Error(`worker ${w.process.pid}: ${msg.error}`));
      };
      const timer = setTimeout(() => {
        waitingParts.delete(key);
        reject(new Error(`worker ${w.process.pid} did not answer within ${GATHER_TIMEOUT_MS / 1000} s`));
      }, GATHER_TIMEOUT_MS);
      waitingParts.set(key, settle);
      // a channel that closed since (the worker is going): left out like one that exited
      w.send({ type: COLLECT, id, what } satisfies AskMessage, undefined, {}, (err) => {
        if (err && waitingParts.get(key) === settle) settle(undefined);
      });
    });
  return Promise.all(workers.map(one)).then((parts) => {
    const byWorker = new Map<number, unknown>();
    parts.forEach((part, i) => part !== undefined && byWorker.set((workers[i] as Worker).id, part));
    return byWorker;
  });
}

/** The primary's answer to a worker's ASK: every serving worker's metrics merged, or the other workers' caches cleared. */
async function answerAsk(from: Worker, ask: AskMessage, serving: Worker[], history: WorkerMetricsHistory): Promise<void> {
  let reply: AnswerMessage;
  try {
    const answer =
      ask.what === 'metrics'
        ? await history.merge((await gatherByWorker(serving, 'metrics')) as Map<number, MetricData[]>)
        : await gather(serving.filter((w) => w !== from), 'cache-clear');
    reply = { type: ANSWER, id: ask.id, answer };
  } catch (e) {
    reply = { type: ANSWER, id: ask.id, error: errorMessage(e) };
  }
  // the asking worker may be gone by now: nothing to tell it (the callback keeps that from being an 'error' event)
  if (from.isConnected()) from.send(reply, undefined, {}, () => undefined);
}

/**
 * A worker's side of the channel: asks the primary to gather from every worker, and answers the
 * primary's collections with this worker's part.
 */
class PrimaryLink {
  private asked = 0;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly parts = new Map<Gathered, () => Promise<unknown>>();
  private readonly onMessage = (msg: AskMessage | AnswerMessage) => {
    if (msg?.type === ANSWER) this.settle(msg);
    else if (msg?.type === COLLECT) void this.collect(msg);
  };

  constructor() {
    process.on('message', this.onMessage);
  }

  /** Everyone's `what`, gathered by the primary; a 503 when a worker does not answer. */
  ask(what: Gathered): Promise<unknown> {
    const id = ++this.asked;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle({ type: ANSWER, id, error: `the primary did not answer within ${ASK_TIMEOUT_MS / 1000} s` }), ASK_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      process.send?.({ type: ASK, id, what } satisfies AskMessage, undefined, {}, (err: Error | null) => {
        if (err) this.settle({ type: ANSWER, id, error: `the primary cannot be reached (${err.message})` });
      });
    });
  }

  /** What this worker gives when the primary gathers `what`. */
  answer(what: Gathered, part: () => Promise<unknown>): void {
    this.parts.set(what, part);
  }

  /** Tells the primary this worker is closing: it is asked for nothing more (it still answers what is under way). */
  leave(): void {
    process.send?.({ type: LEAVING }, undefined, {}, () => undefined);
  }

  close(): void {
    process.off('message', this.onMessage);
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
  }

  private settle(msg: AnswerMessage): void {
    const w = this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id);
    clearTimeout(w.timer);
    if (msg.error === undefined) w.resolve(msg.answer);
    else w.reject(new AppError(503, 'workers_unavailable', `Could not gather from every worker of cco proxy: ${msg.error}; try again, or run with --workers 1`));
  }

  private async collect(msg: AskMessage): Promise<void> {
    const part = this.parts.get(msg.what);
    let reply: AnswerMessage;
    try {
      if (!part) throw new Error(`nothing to give for ${msg.what}`);
      reply = { type: COLLECTED, id: msg.id, answer: await part() };
    } catch (e) {
      reply = { type: COLLECTED, id: msg.id, error: errorMessage(e) };
    }
    process.send?.(reply, undefined, {}, () => undefined);
  }
}

export interface RunningProxy {
  url: string;
  port: number;
  app: FastifyInstance;
  gateway: Gateway;
  store: Store;
  /** Graceful: requests in flight get `graceMs` (default CLOSE_GRACE_MS) to finish, then a 503 before their connections are cut. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The standalone gateway server: the same core and routes as in the daemon, with its own
 * store, /health, /metrics, /api/logs and /api/diagnostics.
 */
export async function startProxyServer(opts: ProxyOptions, o: { migrate?: boolean; env?: Record<string, string | undefined>; clusterWorker?: boolean } = {}): Promise<RunningProxy> {
  const env = o.env ?? process.env;
  const paths = resolvePaths(env);
  const { logger, buffer: logs } = createLogger({ level: opts.logLevel, stdout: true });
  const startedAt = Date.now();
  let store: Store;
  try {
    store = await openStore({ ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}), sqlitePath: opts.dbPath, sqliteCacheKib: dbCacheKibFromEnv(env) ?? PROXY_SQLITE_CACHE_KIB, pgPoolSize: dbPoolMaxFromEnv(env), pgSchema: pgSchemaFromEnv(env), pgApplicationName: `${PG_APPLICATION_NAME}-proxy`, migrate: o.migrate !== false });
  } catch (e) {
    throw new Error(`Failed to open database: ${errorMessage(e)}`, { cause: e });
  }
  // analytics inserts, commits and WAL checkpoints off the event loop (a SQLite file: a thread of
  // their own; see store/sql-writer.ts)
  const writer = sqlWriterFor(store);
  // a worker of --workers N answers /metrics for all of them (merged by the primary)
  const link = o.clusterWorker ? new PrimaryLink() : undefined;
  const metrics = createMetricsRegistry(link ? { exposition: async () => (await link.ask('metrics')) as string } : {});
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
      slowRequestWarnMs: opts.slowRequestWarnMs,
      writer: { sql: writer },
      ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
      ...(opts.httpProxy ? { httpProxy: opts.httpProxy } : {}),
      // Bound beyond loopback, /v1 callers must present the access token (x-cco-token or as their API key).
      ...(loopback ? {} : { clientAuth: { isGatewayCredential: (t: string) => t === accessToken } }),
    });
  } catch (e) {
    link?.close();
    await writer.close();
    await store.close();
    throw e instanceof ConfigError ? e : new Error(`Gateway failed to start: ${errorMessage(e)}`, { cause: e });
  }
  if (link) shareWithWorkers(link, gateway, metrics);
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
    // a gateway degraded but serving (a provider's breaker open) keeps 200, as the daemon's /health does
    const ok = database.status === 'ok' && (gw.status === 'ok' || gw.serving === true);
    return reply.status(ok ? 200 : 503).send({ status: database.status === 'ok' && gw.status === 'ok' ? 'ok' : 'degraded', ...info, pid: process.pid, uptime_seconds: Math.round((Date.now() - startedAt) / 1000), memory_usage_mb: Math.round(process.memoryUsage().rss / 2 ** 20), checks: { database, gateway: gw } });
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
    link?.close();
    await app.close();
    await gateway.close();
    await writer.close();
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
    async close(graceMs = CLOSE_GRACE_MS) {
      // asked for nothing more from now, but answers what the primary is gathering meanwhile
      link?.leave();
      gateway.stopping();
      await closeGracefully(app, graceMs, { beforeCut: () => gateway.cutting() });
      link?.close();
      await gateway.close();
      await writer.close();
      await store.close();
      logger.flush();
    },
  };
}

/**
 * A worker's part in what the workers share: its metrics for the merged /metrics, and its cache
 * for a clear made on any worker (an in-memory cache is the worker's own; Redis is one for all).
 */
function shareWithWorkers(link: PrimaryLink, gateway: Gateway, metrics: Registry): void {
  link.answer('metrics', () => workerMetrics(metrics));
  link.answer('cache-clear', () => gateway.cache.clearOwn());
  if (gateway.cache.backend.kind === 'memory') gateway.cache.setPeers({ clear: async () => (await link.ask('cache-clear')) as ClearedCache[] });
}
