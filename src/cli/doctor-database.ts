import { existsSync, statSync } from 'node:fs';
import { maskedUrl } from '../core/redact.js';
import { resolve } from 'node:path';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import type { CheckResult } from './doctor-checks.js';

const NAME = 'Database';
const QUICK_CHECK_MAX_BYTES = 512 * 1024 * 1024;


/**
 * The configured store opens: the SQLite file read-only (a file that is not a database, or a
 * damaged one, fails here and not only when the daemon starts), or PostgreSQL answers.
 */
export async function checkDatabase(config: Pick<DaemonConfig, 'storage'> | undefined, paths: Paths, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const url = config?.storage.database_url || env.DATABASE_URL;
  if (url) return checkPostgres(url);
  return checkSqlite(resolve(config?.storage.sqlite_path || paths.databaseFile));
}

export async function checkSqlite(file: string): Promise<CheckResult> {
  if (!existsSync(file)) return { name: NAME, level: 'ok', detail: `SQLite ${file} (created at the first start)` };
  let db;
  try {
    const SQLite = (await import('better-sqlite3')).default;
    db = new SQLite(file, { readonly: true, fileMustExist: true });
    // the first read of the schema is what finds a file that is not a database
    const tables = (db.prepare("select count(*) as n from sqlite_master where type = 'table'").get() as { n: number }).n;
    // quick_check reads every page: worth it on the usual database, too slow for a check on a huge one
    if (statSync(file).size <= QUICK_CHECK_MAX_BYTES) {
      const check = db.pragma('quick_check(1)', { simple: true });
      if (check !== 'ok') return sqliteFailure(file, `damaged (quick_check: ${String(check)})`);
    }
    return { name: NAME, level: 'ok', detail: `SQLite ${file} opens (${tables} tables)` };
  } catch (e) {
    return sqliteFailure(file, (e as Error).message);
  } finally {
    db?.close();
  }
}

function sqliteFailure(file: string, why: string): CheckResult {
  const aside = `${file}.corrupt`;
  // SQLite finds a database's journal by its name: moved together, the copy stays readable as it was
  const journals = ['-wal', '-shm'].filter((s) => existsSync(file + s)).map((s) => ` && mv ${file}${s} ${aside}${s}`).join('');
  return {
    name: NAME,
    level: 'fail',
    detail: `cannot open SQLite ${file}: ${why}`,
    fix: `Move it aside (a new one is created, the old data stays in the copy): mv ${file} ${aside}${journals} && cco daemon restart`,
  };
}

async function checkPostgres(url: string): Promise<CheckResult> {
  const shown = maskedUrl(url);
  try {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, query_timeout: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      await client.end().catch(() => undefined);
    }
    return { name: NAME, level: 'ok', detail: `PostgreSQL ${shown} answers` };
  } catch (e) {
    // the driver's message may quote the URL it was given
    const why = (e as Error).message.split(url).join(shown);
    return { name: NAME, level: 'fail', detail: `cannot connect to PostgreSQL ${shown}: ${why}`, fix: 'Check that the server runs and DATABASE_URL (or [storage] database_url) is right: psql "$DATABASE_URL" -c "select 1"' };
  }
}
