import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, QueryResult, SqliteDialectConfig, TransactionSettings } from 'kysely';

/** How long a statement keeps retrying a locked database before it fails (as `busy_timeout` did). */
export const BUSY_GIVE_UP_MS = 5000;

/**
 * SQLite on the event loop without sleeping in SQLite's busy handler.
 *
 * The daemon's SQLite file has a second writer: the sidecar's write thread (its own connection,
 * see `sidecar/sql-writer.ts`). With `busy_timeout` set, a statement of the store's connection
 * that finds the write lock taken sleeps inside SQLite (1, 2, 5, 10 … ms), and the whole event
 * loop sleeps with it: every HTTP request of the daemon waits. Measured with a thread holding
 * the lock 3 ms at a time, an insert on the main thread blocked it p50 1.3 ms, p99 12 ms, max
 * 25 ms (docs/store.md "A second writer").
 *
 * So the store's connection runs with `busy_timeout = 0`, and this driver retries a statement
 * that failed with SQLITE_BUSY after a timer, letting the event loop run meanwhile. Retrying is
 * safe because a busy statement did nothing:
 * - outside a transaction, each statement is its own transaction;
 * - transactions start with `BEGIN IMMEDIATE`, which takes the write lock first (and is what
 *   gets retried), so no statement inside one meets a writer's lock. A deferred `BEGIN` would
 *   take its snapshot first and could then fail on its first write, with work already done.
 *   Read-only transactions (`setAccessMode('read only')`) begin deferred and take no lock.
 *
 * A read-write transaction holds the write lock until it ends: awaiting the write thread inside
 * one would wait for itself (until the thread's busy timeout).
 */
export class NonBlockingSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: NonBlockingSqliteConfig) {
    super(sqliteConfig);
  }

  override createDriver(): Driver {
    return new NonBlockingSqliteDriver(this.sqliteConfig);
  }

  // SQLite's DDL is transactional (FTS5 tables included), though Kysely's adapter says otherwise:
  // with this, the migrator runs pending migrations in one transaction, and a daemon killed in
  // the middle of one (a long table rebuild on upgrade) leaves the database as it was, not half
  // migrated with a table it cannot create again.
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export interface NonBlockingSqliteConfig extends SqliteDialectConfig {
  /** Whether the connection is inside a transaction (better-sqlite3's `inTransaction`). */
  inTransaction(): boolean;
}

class NonBlockingSqliteDriver extends SqliteDriver {
  /** The one connection's retrying wrapper (SQLite here has a single connection). */
  private readonly wrappers = new WeakMap<DatabaseConnection, DatabaseConnection>();
  /** Between a successful BEGIN and its COMMIT or ROLLBACK. */
  private inTransaction = false;

  constructor(private readonly nonBlocking: NonBlockingSqliteConfig) {
    super(nonBlocking);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const c = await super.acquireConnection();
    let w = this.wrappers.get(c);
    if (!w) {
      // A statement may be retried outside a transaction, or inside one SQLite has kept open:
      // should the busy error have rolled it back, the retry would run outside it.
      const retryable = (): boolean => !this.inTransaction || this.nonBlocking.inTransaction();
      w = {
        executeQuery: <R>(q: CompiledQuery) => whenUnlocked(() => c.executeQuery<R>(q), BUSY_GIVE_UP_MS, retryable),
        streamQuery: <R>(q: CompiledQuery, chunkSize?: number) => c.streamQuery<R>(q, chunkSize),
      };
      this.wrappers.set(c, w);
    }
    return w;
  }

  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    // a read-only transaction (`setAccessMode('read only')`) keeps a snapshot and no lock: the
    // write thread goes on writing meanwhile
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
    this.inTransaction = true;
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.inTransaction = false;
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.inTransaction = false;
    // SQLite ends a transaction itself on some errors (SQLITE_FULL, SQLITE_IOERR, ...): a ROLLBACK
    // then fails with "cannot rollback - no transaction is active", and that error would replace
    // the real one (the disk is full) in what the caller and the log see.
    if (!this.nonBlocking.inTransaction()) return;
    await super.rollbackTransaction(connection);
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  // not SQLITE_BUSY_SNAPSHOT: a deferred transaction whose snapshot is stale cannot write, however
  // often the statement is retried (the transaction has to start again)
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_RECOVERY' || code === 'SQLITE_BUSY_TIMEOUT';
}

/**
 * Runs `run` (a statement of the store's connection), retrying on SQLITE_BUSY without blocking,
 * while `retryable()` says a retry would still do what the first attempt meant to.
 */
export async function whenUnlocked<R>(run: () => Promise<QueryResult<R>>, giveUpMs = BUSY_GIVE_UP_MS, retryable: () => boolean = () => true): Promise<QueryResult<R>> {
  let started: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      // better-sqlite3 throws synchronously; the await turns both kinds of failure into one
      return await run();
    } catch (e) {
      if (!isBusy(e) || !retryable()) throw e;
      started ??= performance.now();
      if (performance.now() - started >= giveUpMs) throw e;
      // the lock is usually held for well under a millisecond (a group commit of the write
      // thread), sometimes for a checkpoint (~10–20 ms): start short, back off to 8 ms
      await new Promise((r) => setTimeout(r, Math.min(8, 1 << Math.min(attempt >> 1, 3))));
    }
  }
}
