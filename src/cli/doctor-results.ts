import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import { resultFolderLister, resultKey } from '../sidecar/result-folders.js';
import { parseDocument } from '../sidecar/result-document.js';
import type { CheckResult } from './doctor-checks.js';
import { PG_SCHEMA_NAME } from '../config/sections/storage.js';

const NAME = 'Agent results';
/** Files named in a detail line, at most. */
const NAMED = 3;
const resultFiles = (n: number): string => `${n} result file${n === 1 ? '' : 's'}`;

interface ResultRowKey {
  issue_id: string;
  agent_type: string;
}

/**
 * Every stored agent result file has its row in the database: a database restored from an older
 * backup lacks the rows of the results stored since, and agents, `/api/results` and the
 * knowledge search do not see those. A start indexes them by itself when the database knows fewer
 * issues than there are issue folders; this check compares every file (what a start does not,
 * to stay fast) and names `--reindex-results` for the rest. Undefined when there is nothing to
 * compare: no result file, or a database that cannot be read (the Database check says why).
 */
export async function checkResults(config: Pick<DaemonConfig, 'storage'> | undefined, paths: Paths, restartCommand: string, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult | undefined> {
  const files = resultFolderLister.resultFiles(paths.resultsDir);
  if (files.length === 0) return undefined;
  const rows = await resultRows(config, paths, env);
  if (rows === undefined) return undefined;
  // a new or replaced database: the start indexes every file by itself
  if (rows === 'none') return { name: NAME, level: 'ok', detail: `${resultFiles(files.length)}; the daemon's next start indexes ${files.length === 1 ? 'it' : 'them'} (the database has no results table yet)` };
  const known = new Set(rows.map((r) => resultKey(r.issue_id, r.agent_type)));
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const f of files) {
    if (known.has(resultKey(f.issueId, f.agentType))) continue;
    const doc = readDocument(f.file);
    if (doc && doc.input.issue_id === f.issueId && doc.input.agent_type === f.agentType) missing.push(f.file);
    else invalid.push(f.file);
  }
  const notes: string[] = [];
  if (missing.length) notes.push(`${missing.length} of ${resultFiles(files.length)} ${missing.length === 1 ? 'has' : 'have'} no row in the database (restored from an older backup?), so agents and /api/results do not see ${missing.length === 1 ? 'it' : 'them'}: ${named(missing)}`);
  if (invalid.length) notes.push(`${resultFiles(invalid.length)} ${invalid.length === 1 ? 'is not a valid result document' : 'are not valid result documents'} of ${invalid.length === 1 ? 'its' : 'their'} place and ${invalid.length === 1 ? 'stays' : 'stay'} unindexed: ${named(invalid)}`);
  if (notes.length === 0) return { name: NAME, level: 'ok', detail: `${resultFiles(files.length)}, each in the database` };
  const fixes: string[] = [];
  if (missing.length) fixes.push(`${restartCommand} --reindex-results (indexes every result file that has no row)`);
  if (invalid.length) fixes.push('fix or remove the files that are not valid results (JSON with agent_id, agent_type, issue_id, result and stored_at, in <issue>/<agent-type>.json)');
  return { name: NAME, level: 'warn', detail: notes.join('; '), fix: fixes.join('; ') };
}

function named(files: string[]): string {
  return files.slice(0, NAMED).join(', ') + (files.length > NAMED ? ` and ${files.length - NAMED} more` : '');
}

function readDocument(file: string): ReturnType<typeof parseDocument> {
  try {
    return parseDocument(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The (issue, agent type) of every result row; 'none' before the first start (no database or table); undefined when the database cannot be read. */
async function resultRows(config: Pick<DaemonConfig, 'storage'> | undefined, paths: Paths, env: NodeJS.ProcessEnv): Promise<ResultRowKey[] | 'none' | undefined> {
  const url = config?.storage.database_url || env.DATABASE_URL;
  if (url) {
    try {
      const pg = (await import('pg')).default;
      // the schema the daemon keeps its tables in ([storage] pg_schema, CCO_PG_SCHEMA wins)
      const schema = env.CCO_PG_SCHEMA?.trim() || config?.storage.pg_schema || '';
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, query_timeout: 10_000, ...(PG_SCHEMA_NAME.test(schema) ? { options: `-c search_path=${schema}` } : {}) });
      try {
        await client.connect();
        const exists = await client.query<{ t: string | null }>("select to_regclass('sidecar_results') as t");
        if (!exists.rows[0]?.t) return 'none';
        return (await client.query<ResultRowKey>('select issue_id, agent_type from sidecar_results')).rows;
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch {
      return undefined;
    }
  }
  const file = resolve(config?.storage.sqlite_path || paths.databaseFile);
  if (!existsSync(file)) return 'none';
  let db;
  try {
    const SQLite = (await import('better-sqlite3')).default;
    db = new SQLite(file, { readonly: true, fileMustExist: true });
    const table = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'sidecar_results'").get();
    if (!table) return 'none';
    return db.prepare('select issue_id, agent_type from sidecar_results').all() as ResultRowKey[];
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
