import SQLite from 'better-sqlite3';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { holderText, SQLITE_BUSY_CODE, sqliteWriteLockHolders } from '../core/storage-errors.js';
import { withTimeout } from '../core/timeout.js';
import type { DaemonModule, PartHealth } from './module.js';

// (in a module of their own: the CLI reads them without loading SQLite)
export { HEALTH_CHECK_MS, WRITE_PROBE_MS } from './health-limits.js';
import { HEALTH_CHECK_MS, WRITE_PROBE_MS } from './health-limits.js';

/**
 * Resident memory past which /health reports `memory` degraded (and the log warns, once per
 * crossing). The product aims at < 150 MB under load; no config key sets this. 1 GB is ~7× that:
 * a leak or a runaway cache, not a busy day, while still well before a small VM or a container
 * limit of a few GB kills the process.
 */
export const MEMORY_LIMIT_MB = 1024;

/** Where MemoryWatch says that memory crossed its limit (the daemon's logger). */
export interface MemoryLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  service: 'cco-daemon';
  version: string;
  pid: number;
  uptime_seconds: number;
  port: number;
  memory_usage_mb: number;
  /** The guide's health endpoint's own fields, beside CCO's: when, how long up (s), NODE_ENV, the database and Redis as "connected"/"error", memory in MB. */
  timestamp: string;
  uptime: number;
  environment: string | null;
  database?: 'connected' | 'error';
  redis?: 'connected' | 'error';
  memory: { rss: string; heapUsed: string; heapTotal: string };
  checks: Record<string, PartHealth>;
}

/**
 * `GET /health`: status, version, uptime and one check per part. 503 when a part that should
 * be running is down (parts switched off report `disabled` and do not count).
 */
export function registerHealth(
  app: FastifyInstance,
  opts: HealthOptions & {
    /** Where the memory warnings go (default: the app's logger). */
    logger?: MemoryLog;
  },
): void {
  const memory = new MemoryWatch(opts.memoryLimitMb ?? MEMORY_LIMIT_MB, opts.logger ?? app.log);
  const writeProbe = opts.writeProbe ?? new SharedWriteProbe();
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const report = await healthReport({ ...opts, memory, writeProbe });
    // A part degraded but still serving (`serving: true`: the gateway with a provider's breaker
    // open answers through fallbacks and other providers) keeps 200: load balancers and `cco mcp`
    // read 503 as "not there", and one provider's outage would take every replica out.
    const code = Object.values(report.checks).some((c) => c.status === 'down' || (c.status === 'degraded' && c.serving !== true)) ? 503 : 200;
    // Beyond loopback (team mode) /health answers without credentials, for load balancers: the
    // verdict and each part's status only. The pid, paths, URLs and errors are for callers the
    // security layer admitted (a token, an API key, a user; anyone when bound to loopback) and
    // for this machine itself (the CLI finds its daemon by them), unless a proxy relayed it.
    if (!req.principal && !fromThisMachine(req)) return reply.status(code).send(publicHealth(report));
    return reply.status(code).send(report);
  };
  app.get('/health', handler);
  // The orchestrator seed's health checks call /api/health.
  app.get('/api/health', handler);
}

export interface HealthOptions {
  version: string;
  startedAt: number;
  port(): number;
  parts: () => DaemonModule[];
  /** The daemon's own checks (`database`, `redis`); a `database` of dialect sqlite gets a write probe. */
  extra: () => Promise<Record<string, PartHealth>>;
  /** Resident memory (MB) past which `memory` is degraded (default MEMORY_LIMIT_MB). */
  memoryLimitMb?: number;
  /** The SQLite write probe, shared by the calls of /health (default: one of its own per app). */
  writeProbe?: SharedWriteProbe;
}

export async function healthReport(opts: HealthOptions & { memory?: MemoryWatch }): Promise<HealthReport> {
  const checks: Record<string, PartHealth> = await opts.extra();
  const rssMb = Math.round(process.memoryUsage.rss() / 1024 / 1024);
  checks.memory = (opts.memory ?? new MemoryWatch(opts.memoryLimitMb ?? MEMORY_LIMIT_MB)).check(rssMb);
  await Promise.all([
    withWriteProbe(checks, opts.writeProbe ?? new SharedWriteProbe()),
    ...opts.parts().map(async (m) => {
      if (!m.health) return;
      try {
        checks[m.name] = await withTimeout(Promise.resolve(m.health()), HEALTH_CHECK_MS, `the ${m.name} check`);
      } catch (e) {
        checks[m.name] = { status: 'down', error: (e as Error).message };
      }
    }),
  ]);
  const degraded = Object.values(checks).some((c) => c.status === 'down' || c.status === 'degraded');
  const mem = process.memoryUsage();
  const mb = (n: number): string => `${Math.round(n / 1024 / 1024)}MB`;
  const link = (c: PartHealth | undefined): 'connected' | 'error' | undefined => (c === undefined || c.status === 'disabled' ? undefined : c.status === 'ok' ? 'connected' : 'error');
  const database = link(checks.database);
  const redis = link(checks.redis);
  return {
    status: degraded ? 'degraded' : 'ok',
    service: 'cco-daemon',
    version: opts.version,
    pid: process.pid,
    uptime_seconds: Math.round((Date.now() - opts.startedAt) / 1000),
    port: opts.port(),
    memory_usage_mb: rssMb,
    timestamp: new Date().toISOString(),
    uptime: Math.round((Date.now() - opts.startedAt) / 1000),
    environment: process.env.NODE_ENV ?? null,
    ...(database ? { database } : {}),
    ...(redis ? { redis } : {}),
    memory: { rss: mb(mem.rss), heapUsed: mb(mem.heapUsed), heapTotal: mb(mem.heapTotal) },
    checks,
  };
}

/** What an unauthenticated caller beyond loopback sees of the health report. */
export function publicHealth(r: HealthReport): { status: HealthReport['status']; service: 'cco-daemon'; checks: Record<string, { status: PartHealth['status'] }> } {
  const checks: Record<string, { status: PartHealth['status'] }> = {};
  for (const [name, c] of Object.entries(r.checks)) checks[name] = { status: c.status };
  return { status: r.status, service: r.service, checks };
}

/** A request from this machine's loopback, not relayed by a proxy (which would make every caller local). */
function fromThisMachine(req: FastifyRequest): boolean {
  const h = req.headers;
  if (h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined) return false;
  const a = req.socket.remoteAddress ?? '';
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/**
 * A SQLite database that answers `select 1` may still refuse every write: another process holding
 * its write lock (a second daemon on the same home, a sqlite3 shell in a transaction) made writes
 * fail with "database is locked" after 5 s while /health said ok. So `checks.database` of a SQLite
 * file is degraded when the probe cannot take the write lock, naming the holder where /proc tells.
 */
async function withWriteProbe(checks: Record<string, PartHealth>, probe: SharedWriteProbe): Promise<void> {
  const db = checks.database;
  if (db?.status !== 'ok' || db.dialect !== 'sqlite' || typeof db.location !== 'string') return;
  if (db.location === ':memory:' || db.location.startsWith('file:')) return;
  const problem = await probe.check(db.location);
  if (problem) checks.database = { ...db, status: 'degraded', ...problem };
}

/**
 * How long a write probe's answer is reused, from when it came. /health needs no credentials and
 * load balancers poll it: a probe of its own per call held two file descriptors for up to
 * WRITE_PROBE_MS while the lock was held (200 calls at once: 400). A lock taken or given back is
 * seen within this and one probe, as the pipeline's cached folder check.
 */
export const WRITE_PROBE_REUSE_MS = 2000;

export type WriteProbeAnswer = Awaited<ReturnType<typeof sqliteWriteProbe>>;

/**
 * The write probe shared by every call of /health: callers meanwhile wait for the probe in flight,
 * and its answer (ok or busy) is reused for `reuseMs` after it came. At most one connection of
 * its own per database file, however many callers. A probe that throws is not kept.
 */
export class SharedWriteProbe {
  private readonly last = new Map<string, { answer: Promise<WriteProbeAnswer>; cameAt?: number }>();

  constructor(
    private readonly probe: (file: string) => Promise<WriteProbeAnswer> = (file) => sqliteWriteProbe(file),
    private readonly reuseMs = WRITE_PROBE_REUSE_MS,
  ) {}

  check(file: string): Promise<WriteProbeAnswer> {
    const held = this.last.get(file);
    if (held && (held.cameAt === undefined || performance.now() - held.cameAt < this.reuseMs)) return held.answer;
    const entry: { answer: Promise<WriteProbeAnswer>; cameAt?: number } = {
      answer: this.probe(file).then(
        (answer) => {
          entry.cameAt = performance.now();
          return answer;
        },
        (e: unknown) => {
          if (this.last.get(file) === entry) this.last.delete(file);
          throw e;
        },
      ),
    };
    this.last.set(file, entry);
    return entry.answer;
  }
}

/**
 * Takes the file's write lock and gives it back at once (`BEGIN IMMEDIATE`, `ROLLBACK`), on a
 * connection of its own with no busy handler: SQLite's would sleep on the event loop. A busy lock
 * is tried again after a timer until WRITE_PROBE_MS, so the daemon's own writes (on this event
 * loop and on the sidecar's thread) go on meanwhile. Nothing is left open. Undefined when the lock
 * can be taken, or is held by this process itself (its own writes; /proc/locks tells on Linux).
 */
export async function sqliteWriteProbe(file: string, giveUpMs = WRITE_PROBE_MS): Promise<{ lock: 'busy' | 'failed'; error: string; holders?: string[] } | undefined> {
  const started = performance.now();
  let conn: SQLite.Database | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        conn ??= new SQLite(file, { fileMustExist: true, timeout: 0 });
        takeAndReleaseWriteLock(conn);
        return undefined;
      } catch (e) {
        if (!SQLITE_BUSY_CODE.test(String((e as { code?: unknown }).code))) throw e;
        if (performance.now() - started >= giveUpMs) return lockedBy(file, giveUpMs);
        await new Promise((r) => setTimeout(r, Math.min(25, 1 << attempt)));
      }
    }
  } catch (e) {
    return { lock: 'failed', error: `The write probe of ${file} failed: ${(e as Error).message}. Writes to the database may fail too: check the file, its folder and the disk.` };
  } finally {
    conn?.close();
  }
}

/** Held for microseconds; should ROLLBACK fail, closing the connection rolls back. */
function takeAndReleaseWriteLock(conn: SQLite.Database): void {
  conn.exec('BEGIN IMMEDIATE');
  conn.exec('ROLLBACK');
}

function lockedBy(file: string, waitedMs: number): { lock: 'busy'; error: string; holders?: string[] } | undefined {
  const holders = sqliteWriteLockHolders(file);
  const others = holders?.filter((h) => h.pid !== process.pid);
  // held by this daemon alone (a long write of its own): not the lock this check is about
  if (holders?.length && !others?.length) return undefined;
  const who = others?.length ? others.map(holderText).join(', ') : 'another process';
  return {
    lock: 'busy',
    error:
      `database is locked: ${who} has held the write lock of ${file} for over ${waitedMs} ms, so writes wait and then fail (503 database_busy). ` +
      `Find it with \`fuser ${file}\` or \`lsof ${file}\` (a second daemon on the same CCO home, a sqlite3 shell left in a transaction, a backup) and end it.`,
    ...(others?.length ? { holders: others.map(holderText) } : {}),
  };
}

/**
 * The `memory` check: degraded past the limit, and still serving (`serving: true`, 200): a daemon
 * that answers is not taken out of load balancers or readiness for its size. Logs a warning when
 * resident memory crosses the limit and a line when it is back under, not at every check (load
 * balancers poll every few seconds).
 */
export class MemoryWatch {
  private high = false;

  constructor(
    private readonly limitMb: number,
    private readonly logger?: MemoryLog,
  ) {}

  check(rssMb: number): PartHealth {
    const high = rssMb > this.limitMb;
    if (high !== this.high) {
      this.high = high;
      if (high) this.logger?.warn({ rss_mb: rssMb, limit_mb: this.limitMb }, `memory usage above ${this.limitMb} MB: ${rssMb} MB resident`);
      else this.logger?.info({ rss_mb: rssMb, limit_mb: this.limitMb }, `memory usage back under ${this.limitMb} MB: ${rssMb} MB resident`);
    }
    if (!high) return { status: 'ok', rss_mb: rssMb, limit_mb: this.limitMb };
    return {
      status: 'degraded',
      serving: true,
      rss_mb: rssMb,
      limit_mb: this.limitMb,
      error: `The daemon uses ${rssMb} MB of memory (resident), above ${this.limitMb} MB (it normally stays under 150 MB): likely a leak or an oversized cache. Restart it (\`cco daemon restart\`) and report it with \`cco daemon logs\`.`,
    };
  }
}
