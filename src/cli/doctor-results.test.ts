import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../config/paths.js';
import { Knowledge } from '../sidecar/knowledge.js';
import { ResultsRepo } from '../sidecar/results.js';
import type { ResultInput } from '../sidecar/results.js';
import { openStore } from '../store/store.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { checkResults } from './doctor-results.js';

const result = (issue: string, agentType: string, summary: string): ResultInput => ({
  agent_id: `${agentType}-1`,
  agent_type: agentType,
  issue_id: issue,
  result: { status: 'success', summary },
});

describe('cco doctor: every agent result file has its row in the database', () => {
  const t = tempCcoEnv();
  const paths = resolvePaths(t.env);
  afterAll(() => t.cleanup());
  const config = { storage: { sqlite_path: paths.databaseFile, database_url: '' } } as Parameters<typeof checkResults>[0];

  it('says nothing before the first result; files before the first start are left to it; ok when every file is indexed', async () => {
    expect(await checkResults(config, paths, 'cco daemon restart', {})).toBeUndefined();
    mkdirSync(join(paths.resultsDir, 'issue-0'), { recursive: true });
    writeFileSync(join(paths.resultsDir, 'issue-0', 'python-specialist.json'), JSON.stringify({ ...result('issue-0', 'python-specialist', 'zero'), stored_at: 1 }));
    expect(await checkResults(config, paths, 'cco daemon restart', {})).toEqual({ name: 'Agent results', level: 'ok', detail: "1 result file; the daemon's next start indexes it (the database has no results table yet)" });
    rmSync(join(paths.resultsDir, 'issue-0'), { recursive: true });
    const store = await openStore({ sqlitePath: paths.databaseFile });
    const repo = new ResultsRepo(store, paths.resultsDir, new Knowledge(store));
    await repo.save(result('issue-1', 'python-specialist', 'one'));
    await repo.save(result('issue-1', 'test-engineer', 'two'));
    await repo.close();
    await store.close();
    expect(await checkResults(config, paths, 'cco daemon restart', {})).toEqual({ name: 'Agent results', level: 'ok', detail: '2 result files, each in the database' });
  });

  it('names result files without a row (an older backup) with --reindex-results, and files that are no valid result apart', async () => {
    const write = (issue: string, agentType: string, text: string) => {
      mkdirSync(join(paths.resultsDir, issue), { recursive: true });
      writeFileSync(join(paths.resultsDir, issue, `${agentType}.json`), text);
    };
    // stored after the backup the database came back from: files without rows
    write('issue-1', 'security-auditor', JSON.stringify({ ...result('issue-1', 'security-auditor', 'three'), stored_at: 3 }));
    write('issue-2', 'python-specialist', JSON.stringify({ ...result('issue-2', 'python-specialist', 'four'), stored_at: 4 }));
    // not results: unparseable, and one whose document names another place
    write('issue-3', 'python-specialist', '{not json');
    write('issue-4', 'test-engineer', JSON.stringify({ ...result('issue-9', 'test-engineer', 'elsewhere'), stored_at: 5 }));
    const r = await checkResults(config, paths, 'cco daemon restart --port 3100', {});
    expect(r?.level).toBe('warn');
    expect(r?.detail).toContain('2 of 6 result files have no row in the database (restored from an older backup?)');
    expect(r?.detail).toContain(join(paths.resultsDir, 'issue-2', 'python-specialist.json'));
    expect(r?.detail).toContain('2 result files are not valid result documents');
    expect(r?.detail).toContain(join(paths.resultsDir, 'issue-3', 'python-specialist.json'));
    expect(r?.fix).toContain('cco daemon restart --port 3100 --reindex-results');

    // what the fix does: the daemon's start with the flag indexes both, and the check is quiet about them
    const store = await openStore({ sqlitePath: paths.databaseFile });
    const repo = new ResultsRepo(store, paths.resultsDir, new Knowledge(store));
    expect(await repo.recover({ reindexAll: true })).toBe(2);
    await repo.close();
    await store.close();
    const after = await checkResults(config, paths, 'cco daemon restart', {});
    expect(after?.detail).not.toContain('no row');
    expect(after?.detail).toContain('2 result files are not valid result documents');
    expect(after?.fix).not.toContain('--reindex-results');
  });

  it('leaves an unreadable database to the Database check', async () => {
    const bad = join(paths.home, 'not-a-db.db');
    writeFileSync(bad, 'this is not a database, it is long enough to have a header page or not at all');
    expect(await checkResults({ storage: { sqlite_path: bad, database_url: '' } } as Parameters<typeof checkResults>[0], paths, 'cco daemon restart', {})).toBeUndefined();
  });
});
