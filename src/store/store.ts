import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, PostgresDriver, sql } from 'kysely';
import type { DatabaseConnection, Driver, PostgresDialectConfig, TransactionSettings } from 'kysely';
import type pg from 'pg';
import { AppError } from '../core/errors.js';
import { markDatabaseError } from '../core/storage-errors.js';
import { maskedUrl } from '../core/redact.js';
import { ModuleMigrationProvider } from './migrations/index.js';
import { NonBlockingSqliteDialect } from './sqlite-nonblocking.js';
import { withStatementCache } from './sqlite-statement-cache.js';
import type { Dialect } from './migrations/types.js';
import type { Database } from './tables/index.js';
import { PG_SCHEMA_NAME, PG_SCHEMA_RULE } from '../config/sections/storage.js';

export type { Dialect } from './migrations/types.js';
export type { Database } from './tables/index.js';

/** The database behind every module: one Kysely query layer over SQLite or PostgreSQL. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Where it lives, with any password masked (for health and diagnostics). */
  readonly location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * SQLite file: another thread's connection (the sidecar's write thread) checkpoints the WAL
   * from now on, so that this connection's commits on the event loop never copy the WAL into the
   * database (~10–20 ms for 1,000 pages). The returned function gives checkpoints back (called
   * when that thread stops). Absent on PostgreSQL.
   */
  delegateCheckpoints?(): () => void;
  /**
   * SQLite file: the size in bytes its WAL file is cut back to (`journal_size_limit` of every
   * connection that writes it; the threads that checkpoint truncate a larger WAL once it is all
   * copied). Absent on PostgreSQL.
   */
  readonly walLimitBytes?: number;
  /** SQLite: the page cache of its connection in KiB (`cache_size`), which the writer thread's connection takes too. Absent on PostgreSQL. */
  readonly cacheKib?: number;
  /**
   * SQLite file: a descriptor of its `-shm` file, open for reading until the store closes (after
   * its connection), for the writer thread's WAL backlog (`wal-checkpoint.ts`); undefined
   * without one. The only one the process opens: closing any descriptor of that file drops every
   * POSIX lock the process holds on it, its connections' included, and another process could
   * then reset the WAL index under them (sqlite.org/howtocorrupt.html, 2.2.1).
   */
  shmFd?(): number | undefined;
}

export interface StoreOptions {
  /** `postgres://...`: use PostgreSQL. Otherwise `sqlitePath` is used. */
  databaseUrl?: string;
  sqlitePath?: string;
  /** SQLite page cache in KiB. */
  sqliteCacheKib?: number;
  /** Size the SQLite WAL file is cut back to (default `SQLITE_WAL_LIMIT_BYTES`; tests lower it). */
  sqliteWalLimitBytes?: number;
  /** PostgreSQL schema to use (created if missing); tests use one per run. */
  pgSchema?: string;
  /** Most PostgreSQL connections the store holds at once (default `PG_POOL_MAX_DEFAULT`; `[storage] pg_pool_max`). */
  pgPoolSize?: number;
  /** A query without an answer for this long drops its connection (default PG_STALL_MS; tests set less). */
  pgStallMs?: number;
  /**
   * `application_name` of the PostgreSQL connections (what `pg_stat_activity` shows) when neither
   * the URL nor `PGAPPNAME` sets one: the process that opens the store, e.g. `cco-orchestrator-daemon`
   * (default `PG_APPLICATION_NAME`).
   */
  pgApplicationName?: string;
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
}

/**
 * The WAL file is cut back to this size when it restarts: without a limit SQLite keeps the file at
 * its largest (a burst of hook posts left 545 MB for a 9 MB database) and only overwrites it.
 */
export const SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** PostgreSQL connections the store holds at most unless told otherwise (`[storage] pg_pool_max`). */
export const PG_POOL_MAX_DEFAULT = 10;

/**
 * The `application_name` of the store's PostgreSQL connections unless the URL (`?application_name=`)
 * or `PGAPPNAME` names them: without one they were anonymous rows in `pg_stat_activity`, which an
 * operator could not tell from another app's. It names both the product and the orchestrator.
 */
export const PG_APPLICATION_NAME = 'cco-orchestrator';

/** How long PostgreSQL lets a session sit idle inside a transaction before ending it (and its locks). */
export const PG_IDLE_IN_TRANSACTION_MS = 10_000;

/**
 * Transactions that end themselves when their client goes quiet. A daemon cut off from the server
 * in the middle of one (a network partition, a frozen VM) keeps its locks until the server
 * notices: with Linux's TCP defaults, two hours. The events' ordering lock is one for the whole
 * team, so every instance's publishes would wait that long. Each transaction sets
 * `idle_in_transaction_session_timeout` for itself (`set local`, in the same round trip as its
 * `begin`): a startup parameter would be refused by PgBouncer, and a session `set` would outlive
 * the transaction on a pooled server connection.
 */
class BoundedPostgresDialect extends PostgresDialect {
  constructor(private readonly pgConfig: PostgresDialectConfig) {
    super(pgConfig);
  }

  override createDriver(): Driver {
    return new BoundedPostgresDriver(this.pgConfig);
  }
}

class BoundedPostgresDriver extends PostgresDriver {
  private readonly cleaned = new WeakSet<DatabaseConnection>();

  /** Every connection's queries go through `withoutNul` (see there). */
  override async acquireConnection(): Promise<DatabaseConnection> {
    const c = await super.acquireConnection().catch((e: unknown) => {
      throw markDatabaseError(e);
    });
    if (!this.cleaned.has(c)) {
      this.cleaned.add(c);
      const execute = c.executeQuery.bind(c);
      const stream = c.streamQuery.bind(c);
      c.executeQuery = <R>(q: CompiledQuery) =>
        execute<R>(withoutNul(q)).catch((e: unknown) => {
          throw markDatabaseError(e);
        });
      c.streamQuery = (q, chunkSize) => stream(withoutNul(q), chunkSize);
    }
    return c;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const bound = `set local idle_in_transaction_session_timeout = ${PG_IDLE_IN_TRANSACTION_MS}`;
    if (settings.isolationLevel || settings.accessMode) {
      await super.beginTransaction(connection, settings);
      await connection.executeQuery(CompiledQuery.raw(bound));
    } else await connection.executeQuery(CompiledQuery.raw(`begin; ${bound}`));
  }
}

/**
 * PostgreSQL text cannot hold U+0000 ("invalid byte sequence for encoding UTF8: 0x00"), which
 * SQLite and JSON accept: a client's NUL in a model name, a requirement or a query parameter made
 * the statement fail (a 500, and an analytics batch that could never be written). Such characters
 * are stored as U+FFFD, the replacement character, so one value never fails a statement.
 */
export function withoutNul(q: CompiledQuery): CompiledQuery {
  const ps = q.parameters;
  let i = 0;
  while (i < ps.length && !hasNul(ps[i])) i++;
  if (i === ps.length) return q;
  return { ...q, parameters: ps.map(replaceNul) };
}

const hasNul = (v: unknown): boolean => (typeof v === 'string' ? v.includes('\u0000') : Array.isArray(v) && v.some(hasNul));
const replaceNul = (v: unknown): unknown => (typeof v === 'string' ? v.replaceAll('\u0000', '\uFFFD') : Array.isArray(v) ? v.map(replaceNul) : v);

/** pg is loaded only when PostgreSQL is used: the embedded default should not pay for it. */
async function loadPg(): Promise<typeof pg> {
  const mod = (await import('pg')).default;
  // bigint columns hold epoch milliseconds and counters that fit a JS number.
  mod.types.setTypeParser(20, (v) => Number(v));
  mod.types.setTypeParser(1700, (v) => Number(v));
  return mod;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (!opts.databaseUrl) {
    const store = openSqlite(opts);
    if (opts.migrate !== false) await migrateToLatest(store.db, store.dialect, store.location);
    return store;
  }
  checkDatabaseUrl(opts.databaseUrl);
  let store: Store | undefined;
  try {
    store = await openPostgres(opts);
    // the first connection is made here: a server that is down, a database or role that does not exist
    if (opts.migrate !== false) await migrateToLatest(store.db, store.dialect, store.location);
    return store;
  } catch (e) {
    await store?.close().catch(() => undefined);
    throw postgresOpenError(opts.databaseUrl, e);
  }
}

const DATABASE_URL_FORM = 'postgres://user:password@host:5432/database';

/**
 * Refuses a database URL that is not a PostgreSQL URL before any connection is tried: the driver
 * read `mysql://…/x` as a PostgreSQL server's database x ("does not exist, createdb") and `notaurl`
 * as a database on localhost, so the message named the wrong fix.
 */
export function checkDatabaseUrl(url: string): void {
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    throw invalidDatabaseUrl(`DATABASE_URL ${shownDatabaseUrl(url)} is not a URL`);
  }
  if (scheme !== 'postgres:' && scheme !== 'postgresql:') {
    throw invalidDatabaseUrl(`DATABASE_URL ${shownDatabaseUrl(url)} is not a PostgreSQL URL (its scheme is ${scheme}, not postgres: or postgresql:)`);
  }
}

const invalidDatabaseUrl = (what: string): AppError =>
  new AppError(400, 'database_url_invalid', `${what}. Give one of the form ${DATABASE_URL_FORM} (DATABASE_URL or [storage] database_url), or unset it to use the embedded SQLite database.`, { field: 'DATABASE_URL' });

/** The given value with its password masked, whether URL userinfo or a `password=` parameter. */
const shownDatabaseUrl = maskedUrl;

/**
 * A PostgreSQL connection failure as one sentence naming the database (password masked) and the
 * fix; other errors (a failing migration) pass unchanged.
 */
export function postgresOpenError(url: string, e: unknown): unknown {
  const err = e as { code?: string; message?: string };
  let target: URL | undefined;
  try {
    target = new URL(url);
  } catch {
    // not a URL (a libpq keyword string): the fixes below name no host
  }
  const host = target?.hostname || 'localhost';
  const port = target?.port || '5432';
  const name = decodeURIComponent(target?.pathname.replace(/^\//, '') ?? '') || '(default)';
  const user = decodeURIComponent(target?.username ?? '') || '(default)';
  const fixes: Record<string, string> = {
    ECONNREFUSED: `nothing accepts connections at ${host}:${port}. Is PostgreSQL running? Check with \`pg_isready -h ${host} -p ${port}\` and start it (e.g. \`sudo systemctl start postgresql\`), or fix the host and port in DATABASE_URL`,
    ENOTFOUND: `the host ${host} is unknown. Fix the host in DATABASE_URL`,
    EAI_AGAIN: `the host ${host} could not be looked up. Check the network or the host in DATABASE_URL`,
    ETIMEDOUT: `${host}:${port} did not answer. Check that PostgreSQL listens there and that no firewall is in the way`,
    '3D000': `the database ${name} does not exist. Create it (\`createdb -h ${host} -p ${port} ${name}\`) or name another in DATABASE_URL`,
    '28000': `the role ${user} does not exist or may not log in. Create it (\`createuser -h ${host} -p ${port} ${user}\`) or fix the user in DATABASE_URL`,
    '28P01': `the password of ${user} was refused. Fix the password in DATABASE_URL`,
    '42501': `${user} lacks a permission the store needs (create tables in the schema). Grant it, or use another role`,
    '53300': 'the server has no connection slots left. Close idle connections or raise max_connections',
  };
  const fix = err?.code ? fixes[err.code] : /timeout/i.test(err?.message ?? '') ? fixes.ETIMEDOUT : undefined;
  if (!fix) return e;
  return new AppError(500, 'database_open_failed', `Cannot open the PostgreSQL database ${maskedUrl(url)}: ${fix}.`, { cause: e });
}

/**
 * The file is not SQLite (or its header is damaged): which file, and how to start again.
 * Other failures (a full disk, permissions) say what they are with the path.
 */
function sqliteOpenError(file: string, e: unknown): AppError {
  const err = e as { code?: string; message?: string };
  if (err?.code === 'SQLITE_NOTADB' || err?.code === 'SQLITE_CORRUPT') {
    return new AppError(500, 'database_corrupt', `The database ${file} is not a readable SQLite database (${err.message}). Move it aside and start again: \`mv ${file} ${file}.corrupt\` (a new one is created; the old file can be salvaged with \`sqlite3 ${file}.corrupt .recover\`).`, { cause: e });
  }
  return new AppError(500, 'database_open_failed', `Failed to open database ${file}: ${err?.message ?? String(e)}. Use a writable path (--db-path with a full path) and check free disk space.`, { cause: e });
}

function openSqlite(opts: StoreOptions): Store {
  const file = opts.sqlitePath ?? ':memory:';
  const walLimitBytes = Math.floor(opts.sqliteWalLimitBytes ?? SQLITE_WAL_LIMIT_BYTES);
  const cacheKib = Math.floor(opts.sqliteCacheKib ?? 16_384);
  let sqlite: SQLite.Database;
  try {
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true });
      // analytics, hook payloads and results are the user's: readable by the user only (the
      // -wal and -shm files SQLite makes take the database file's mode)
      closeSync(openSync(file, 'a', 0o600));
    }
    sqlite = new SQLite(file);
  } catch (e) {
    throw sqliteOpenError(file, e);
  }
  try {
    // the first read of the file: a file that is not SQLite fails here
    sqlite.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a process crash (kill -9); only an
    // OS crash or power loss can lose the last commits. FULL would fsync every commit.
    sqlite.pragma('synchronous = NORMAL');
    // No sleeping in SQLite's busy handler on the event loop: a statement that finds the write
    // lock taken (the sidecar's write thread) is retried after a timer (sqlite-nonblocking.ts).
    sqlite.pragma('busy_timeout = 0');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`cache_size = -${cacheKib}`);
    // the commit that restarts the WAL truncates the file to the limit (see SQLITE_WAL_LIMIT_BYTES)
    sqlite.pragma(`journal_size_limit = ${walLimitBytes}`);
  } catch (e) {
    sqlite.close();
    throw sqliteOpenError(file, e);
  }
  const db = new Kysely<Database>({ dialect: new NonBlockingSqliteDialect({ database: withStatementCache(sqlite), inTransaction: () => sqlite.inTransaction }) });
  // threads that checkpoint for this connection (see Store.delegateCheckpoints)
  let delegates = 0;
  const autoCheckpoint = (): void => {
    if (!sqlite.open) return;
    try {
      // SQLite's default is 1,000 pages; 0 turns automatic checkpoints off for this connection only
      sqlite.pragma(`wal_autocheckpoint = ${delegates > 0 ? 0 : 1000}`);
    } catch {
      // the connection is busy with an open statement (a streamed query): once it is done
      setTimeout(autoCheckpoint, 10).unref();
    }
  };
  let shm: number | undefined;
  return {
    db,
    dialect: 'sqlite',
    location: file,
    walLimitBytes,
    cacheKib,
    async ping() {
      sqlite.prepare('select 1').get();
    },
    shmFd() {
      if (shm === undefined && file !== ':memory:' && sqlite.open) {
        try {
          shm = openSync(`${file}-shm`, 'r');
        } catch {
          // no -shm file (not in WAL mode yet): none
        }
      }
      return shm;
    },
    delegateCheckpoints() {
      delegates++;
      autoCheckpoint();
      let given = false;
      return () => {
        if (given) return;
        given = true;
        delegates--;
        autoCheckpoint();
      };
    },
    async close() {
      await db.destroy();
      // after the connection: closing it earlier would drop the connection's locks on the file
      if (shm !== undefined) closeSync(shm);
      shm = undefined;
    },
  };
}

async function openPostgres(opts: StoreOptions): Promise<Store> {
  const pg = await loadPg();
  const url = opts.databaseUrl as string;
  const schema = opts.pgSchema;
  if (schema && !PG_SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}: ${PG_SCHEMA_RULE}`);
  if (schema) {
    const c = new pg.Client(postgresClientConfig(url, opts));
    await c.connect();
    try {
      await c.query(`create schema if not exists ${schema}`);
    } finally {
      await c.end();
    }
  }
  const pool = new pg.Pool(postgresPoolConfig(url, opts));
  pool.on('error', () => {
    // an idle client died (server restart); the pool replaces it on next use
  });
  // A client in use whose connection breaks (a reset, a failover, a proxy restarting) emits
  // 'error' too: unheard, Node throws it and the daemon dies. Its query fails on its own.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    boundQueries(client, opts.pgStallMs ?? PG_STALL_MS);
  });
  const db = new Kysely<Database>({ dialect: new BoundedPostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location: maskedUrl(url),
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await db.destroy();
    },
  };
}

/**
 * What every connection of the store is opened with. `fallback_application_name` is sent as
 * `application_name` only when the URL (`?application_name=`) and `PGAPPNAME` set none, as libpq does.
 */
function postgresClientConfig(url: string, opts: StoreOptions): pg.ClientConfig {
  return { connectionString: url, fallback_application_name: opts.pgApplicationName ?? PG_APPLICATION_NAME };
}

/**
 * How long a query may go without an answer before its connection is dropped. A link that
 * stays open and carries nothing (a failover whose old host vanished, a proxy whose backend
 * died) held each query, and its connection's place in the pool, until TCP gave up (about 15
 * minutes): once the pool was full, every request answered 503 even after the network came
 * back. Generous (10 minutes), for migrations and the maintenance endpoints' long statements
 * (an index built on a large gateway_requests).
 */
export const PG_STALL_MS = 600_000;

/**
 * Drops `client`'s connection when a query of the promise form (Kysely's) has no answer within
 * `ms`: the query fails ("Connection terminated"), and the pool, finding the client no longer
 * queryable when it is released, opens a new one. (pg's own `query_timeout` fails the query but
 * keeps the connection, whose next queries then wait behind the one still unanswered.)
 */
function boundQueries(client: pg.PoolClient, ms: number): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const r = query(...args);
    if (!(r instanceof Promise)) return r;
    const timer = setTimeout(() => {
      (client as unknown as { connection?: { stream?: { destroy(e?: Error): void } } }).connection?.stream?.destroy(new Error(`PostgreSQL did not answer within ${ms} ms`));
    }, ms);
    timer.unref();
    return r.finally(() => clearTimeout(timer));
  };
}

/** The pool's settings (exported for tests). */
export function postgresPoolConfig(url: string, opts: StoreOptions): pg.PoolConfig {
  const schema = opts.pgSchema;
  return {
    ...postgresClientConfig(url, opts),
    max: opts.pgPoolSize ?? PG_POOL_MAX_DEFAULT,
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // keepalive probes let both sides notice a dead peer (see BoundedPostgresDriver for locks)
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

/**
 * Brings the schema up to this version's. `location` (the SQLite file, the masked PostgreSQL URL)
 * names the database in the refusal of a database a newer CCO has migrated.
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect, location?: string): Promise<void> {
  // PostgreSQL: the migration tables of the schema in use. Without a schema Kysely takes such
  // tables in any schema of the database for its own, so another schema's (another app's, or a
  // second CCO's) made it skip creating them here and fail with "kysely_migration_lock does not exist".
  const schema = dialect === 'postgres' ? (await sql<{ s: string | null }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const migrator = new Migrator({
    db,
    provider: new ModuleMigrationProvider(dialect),
    // Modules add migrations independently; their names sort by module, not by time.
    allowUnorderedMigrations: true,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // Kysely's words for a database with migrations this build does not have: a newer CCO's
    // (after a downgrade, or an older instance beside a newer one), not a corrupted database
    const newer = /previously executed migration (\S+) is missing/.exec((error as Error).message ?? '');
    if (newer) {
      throw new Error(
        `The database${location ? ` ${location}` : ''} was upgraded by a newer version of CCO (it has migration ${newer[1]}, which this version does not know). Nothing was changed. Run the newer version, or restore a backup taken before the upgrade.`,
        { cause: error },
      );
    }
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration${failed ? ` ${failed.migrationName}` : ''} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
}
