import { readFileSync, statSync } from 'node:fs';
import { AppError } from './errors.js';

/** Marks an error thrown by the PostgreSQL store, so the answer can say the database is what failed. */
export const DATABASE_ERROR = Symbol('cco.databaseError');

export function markDatabaseError(e: unknown): unknown {
  if (e && typeof e === 'object') (e as Record<symbol, boolean>)[DATABASE_ERROR] = true;
  return e;
}

/** Marks an error of a SQLite store with its file, so a "database is locked" answer can name it. */
export const SQLITE_FILE = Symbol('cco.sqliteFile');

export function markSqliteFile(e: unknown, file: string): unknown {
  if (e && typeof e === 'object') (e as Record<symbol, string>)[SQLITE_FILE] = file;
  return e;
}

/** SQLite's "database is locked" (another connection holds the write lock) and "database table is locked", with their extended codes (SQLITE_BUSY_SNAPSHOT, ...). */
export const SQLITE_BUSY_CODE = /^SQLITE_(BUSY|LOCKED)(_[A-Z]+)?$/;
const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const UNWRITABLE = /^(EROFS|EIO|EACCES|EPERM|SQLITE_READONLY\w*|SQLITE_IOERR\w*|SQLITE_CANTOPEN)$/;
/** PostgreSQL's connection classes: 08 (connection exception), 57P0x (shutting down, cannot connect now), 53300 (too many connections). */
const PG_DOWN = /^(08\w{3}|57P0[1-4]|53300)$/;
const NET_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * An error of the machine's storage or of the database, as the answer a client can act on:
 * 507 `storage_full` (free space), 503 `storage_unavailable` (a read-only or failing disk) or
 * 503 `database_unavailable` (PostgreSQL unreachable: retry shortly), 503 `database_busy` (another
 * process holds the SQLite file's write lock: retry shortly, or end it). Undefined for anything
 * else (a 500). Was: "Internal error" for all of them, while nothing had been stored.
 */
export function storageError(err: unknown): AppError | undefined {
  const e = err as (NodeJS.ErrnoException & { [DATABASE_ERROR]?: boolean; [SQLITE_FILE]?: string }) | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const where = e?.path ? ` (${e.path})` : '';
  if (code && SQLITE_BUSY_CODE.test(code)) return databaseBusy(code, e?.[SQLITE_FILE] ?? e?.path, err);
  if (code && FULL.has(code)) {
    return new AppError(507, 'storage_full', `The disk is full${where}: the request did not complete. Free some space and retry (${code}).`, { cause: err });
  }
  if (code && UNWRITABLE.test(code) && (code.startsWith('SQLITE') || e?.syscall !== undefined)) {
    return new AppError(503, 'storage_unavailable', `Storage cannot be written${where}: the request did not complete. Check the disk and the folder's permissions, then retry (${code}).`, { cause: err });
  }
  const dbDown = e?.[DATABASE_ERROR] === true && ((code !== undefined && (PG_DOWN.test(code) || NET_DOWN.has(code))) || /Connection terminated|timeout exceeded when trying to connect|Connection ended unexpectedly/i.test(e?.message ?? ''));
  if (dbDown) {
    // "PostgreSQL" and "connection error" in the words: the guides' log analysis greps for them
    return new AppError(503, 'database_unavailable', `The database (PostgreSQL) is unreachable: connection error ${code ?? e?.message}; retry shortly. \`cco doctor\` checks the connection.`, { cause: err, details: { retryAfterSeconds: 5 } });
  }
  return undefined;
}

/**
 * "database is locked": the store waited for the write lock (5 s) and another process kept it.
 * The seed's troubleshooting guide: find that process (a second daemon on the same CCO home, a
 * `sqlite3` shell left in a transaction, a backup tool) and end it, or retry once it is done.
 */
function databaseBusy(code: string, file: string | undefined, cause: unknown): AppError {
  const holders = file ? sqliteWriteLockHolders(file)?.filter((h) => h.pid !== process.pid) : undefined;
  const who = holders?.length ? ` (${holders.map(holderText).join(', ')})` : '';
  const find = file ? `\`fuser ${file}\` or \`lsof ${file}\`` : '`lsof <CCO home>/analytics.db` (/health names the file and the process: checks.database)';
  const message =
    `The SQLite database ${file ?? 'analytics.db'} is locked: another process holds its write lock${who}, so the request did not complete; retry shortly. ` +
    `If it stays locked, find that process with ${find} — often a second daemon on the same CCO home, a sqlite3 shell left in a transaction or a backup — and end it (${code}).`;
  return new AppError(503, 'database_busy', message, { cause, details: { retryAfterSeconds: 5 } });
}

export interface LockHolder {
  pid: number;
  /** The process name (`/proc/<pid>/comm`), when it can be read. */
  name?: string;
}

export const holderText = (h: LockHolder): string => (h.pid > 0 ? `pid ${h.pid}${h.name ? ` ${h.name}` : ''}` : 'a process of another PID namespace');

/** SQLite's WAL write lock: byte 120 of the `-shm` file (sqlite.org/walformat.html, WAL_WRITE_LOCK). */
const WAL_WRITE_LOCK_BYTE = 120;

/**
 * The processes holding the write lock of a SQLite file, from Linux's /proc/locks: a POSIX write
 * lock on byte 120 of its `-shm` file (WAL mode), or on the database file itself (a connection in
 * exclusive locking mode). Undefined where /proc cannot tell (macOS, Windows). This process's own
 * connections (the store, the sidecar's write thread) appear under its own pid: POSIX locks are
 * per process. Only reads: opening and closing the database file here would drop SQLite's locks.
 */
export function sqliteWriteLockHolders(file: string): LockHolder[] | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const shm = fileId(`${file}-shm`);
  const db = fileId(file);
  const pids = new Set<number>();
  for (const line of table.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 12232 fe:00:2146415 120 120"; "1: -> POSIX ..." lines are waiters
    const m = /^\d+:\s+(?:POSIX|FLOCK|OFDLCK)\s+\S+\s+WRITE\s+(-?\d+)\s+(\S+)\s+(\d+)\s+(\d+|EOF)/.exec(line);
    if (!m) continue;
    const [, pid, id, start, end] = m as unknown as [string, string, string, string, string];
    const onWriteByte = id === shm && Number(start) <= WAL_WRITE_LOCK_BYTE && (end === 'EOF' || Number(end) >= WAL_WRITE_LOCK_BYTE);
    if (onWriteByte || id === db) pids.add(Math.max(0, Number(pid)));
  }
  return [...pids].map((pid) => ({ pid, ...nameOf(pid) }));
}

/** A file as /proc/locks names it: "major:minor:inode" (hex device numbers, as the kernel prints them). */
function fileId(path: string): string | undefined {
  const s = statSync(path, { throwIfNoEntry: false, bigint: true });
  if (!s) return undefined;
  // glibc's dev_t encoding (gnu_dev_major / gnu_dev_minor)
  const major = ((s.dev >> 8n) & 0xfffn) | ((s.dev >> 32n) & ~0xfffn);
  const minor = (s.dev & 0xffn) | ((s.dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${s.ino}`;
}

function nameOf(pid: number): { name?: string } {
  if (pid <= 0) return {};
  try {
    return { name: readFileSync(`/proc/${pid}/comm`, 'utf8').trim() };
  } catch {
    return {};
  }
}
