import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../config/paths.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { checkResults } from './doctor-results.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('cco doctor: agent result files against the rows of a PostgreSQL store', () => {
  const t = tempCcoEnv();
  const paths = resolvePaths(t.env);
  // a schema of its own, reached as the daemon reaches its database: through the URL
  const schema = `doctor_${randomBytes(4).toString('hex')}`;
  const schemaUrl = `${url}${url?.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const config = { storage: { sqlite_path: '', database_url: schemaUrl } } as Parameters<typeof checkResults>[0];
  const query = async (text: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  afterAll(async () => {
    await query(`drop schema if exists ${schema} cascade`);
    t.cleanup();
  });

  it('a database without the table yet: the next start indexes the files; with fewer rows than files, they are named', async () => {
    await query(`create schema ${schema}`);
    mkdirSync(join(paths.resultsDir, 'issue-1'), { recursive: true });
    writeFileSync(join(paths.resultsDir, 'issue-1', 'test-engineer.json'), JSON.stringify({ agent_id: 'te-1', agent_type: 'test-engineer', issue_id: 'issue-1', result: { status: 'success' }, stored_at: 1 }));
    expect(await checkResults(config, paths, 'cco daemon restart', {})).toMatchObject({ level: 'ok', detail: "1 result file; the daemon's next start indexes it (the database has no results table yet)" });
    await query(`create table ${schema}.sidecar_results (issue_id text, agent_type text)`);
    expect((await checkResults(config, paths, 'cco daemon restart', {}))?.detail).toContain('1 of 1 result file has no row in the database');
    await query(`insert into ${schema}.sidecar_results values ('issue-1', 'test-engineer')`);
    expect(await checkResults(config, paths, 'cco daemon restart', {})).toMatchObject({ level: 'ok', detail: '1 result file, each in the database' });
  });

  it('a PostgreSQL server that does not answer is left to the Database check', async () => {
    const down = { storage: { sqlite_path: '', database_url: 'postgres://postgres@127.0.0.1:1/test' } } as Parameters<typeof checkResults>[0];
    expect(await checkResults(down, paths, 'cco daemon restart', {})).toBeUndefined();
  });
});
