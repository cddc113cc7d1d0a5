import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely's SQLite driver calls `prepare(sql)` for every query; preparing costs more than running
 * a small indexed query. Hot paths (sidecar results/events, gateway analytics) repeat the same
 * few SQL strings, so prepared statements are kept per SQL text. Safe because the driver runs one
 * query at a time on the single connection (its mutex), and better-sqlite3 re-prepares a
 * statement by itself after a schema change.
 */
export function withStatementCache(sqlite: SQLite.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt) {
        // Map keeps insertion order: re-insert to mark as recently used.
        cache.delete(sql);
        cache.set(sql, stmt);
        return stmt;
      }
      stmt = sqlite.prepare(sql) as unknown as SqliteStatement;
      // Statements that run once (DDL in migrations, ad-hoc queries) would only churn the cache.
      if (sql.length <= 4096) {
        cache.set(sql, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value as string);
      }
      return stmt;
    },
    close(): void {
      cache.clear();
      sqlite.close();
    },
  };
}
