import { AppError } from './errors.js';

/** Marks an error thrown by the PostgreSQL store, so the answer can say the database is what failed. */
export const DATABASE_ERROR = Symbol('cco.databaseError');

export function markDatabaseError(e: unknown): unknown {
  if (e && typeof e === 'object') (e as Record<symbol, boolean>)[DATABASE_ERROR] = true;
  return e;
}

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const UNWRITABLE = /^(EROFS|EIO|EACCES|EPERM|SQLITE_READONLY\w*|SQLITE_IOERR\w*|SQLITE_CANTOPEN)$/;
/** PostgreSQL's connection classes: 08 (connection exception), 57P0x (shutting down, cannot connect now), 53300 (too many connections). */
const PG_DOWN = /^(08\w{3}|57P0[1-4]|53300)$/;
const NET_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * An error of the machine's storage or of the database, as the answer a client can act on:
 * 507 `storage_full` (free space), 503 `storage_unavailable` (a read-only or failing disk) or
 * 503 `database_unavailable` (PostgreSQL unreachable: retry shortly). Undefined for anything
 * else (a 500). Was: "Internal error" for all of them, while nothing had been stored.
 */
export function storageError(err: unknown): AppError | undefined {
  const e = err as (NodeJS.ErrnoException & { [DATABASE_ERROR]?: boolean }) | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const where = e?.path ? ` (${e.path})` : '';
  if (code && FULL.has(code)) {
    return new AppError(507, 'storage_full', `The disk is full${where}: the request did not complete. Free some space and retry (${code}).`, { cause: err });
  }
  if (code && UNWRITABLE.test(code) && (code.startsWith('SQLITE') || e?.syscall !== undefined)) {
    return new AppError(503, 'storage_unavailable', `Storage cannot be written${where}: the request did not complete. Check the disk and the folder's permissions, then retry (${code}).`, { cause: err });
  }
  const dbDown = e?.[DATABASE_ERROR] === true && ((code !== undefined && (PG_DOWN.test(code) || NET_DOWN.has(code))) || /Connection terminated|timeout exceeded when trying to connect|Connection ended unexpectedly/i.test(e?.message ?? ''));
  if (dbDown) {
    return new AppError(503, 'database_unavailable', `The database is unreachable (${code ?? e?.message}); retry shortly. \`cco doctor\` checks the connection.`, { cause: err, details: { retryAfterSeconds: 5 } });
  }
  return undefined;
}
