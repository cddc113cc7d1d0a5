import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../core/logger.js';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { AgentsRepo } from './agents-repo.js';
import { ContextBuilder } from './context.js';
import { Knowledge } from './knowledge.js';
import { requestResultsReindex, ResultsRepo, resultFolderLister } from './results.js';
import type { ResultFolderLister, ResultInput } from './results.js';
import { ProjectSnapshots } from './snapshots.js';
import { agentDef } from './test-world.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-results-reindex-'));
const stores: TestStore[] = [];
afterAll(async () => {
  for (const t of stores) await t.cleanup();
  rmSync(dir, { recursive: true, force: true });
});
async function freshStore(dialect: 'sqlite' | 'postgres'): Promise<TestStore> {
  const t = await openTestStore(dialect);
  stores.push(t);
  return t;
}

const result = (issue: string, agentType: string, summary: string, decisions: string[] = []): ResultInput => ({
  agent_id: `${agentType}-1`,
  agent_type: agentType,
  issue_id: issue,
  result: { status: 'success', summary, decisions },
});

/** A logger that records its info and warn calls. */
function recordingLogger() {
  const info = vi.fn();
  const warn = vi.fn();
  return { logger: { info, warn, error: vi.fn(), debug: vi.fn() } as unknown as Logger, info, warn };
}

describe('ResultsRepo.recover re-indexes result files that have no row (the database deleted)', () => {
  it.each(testDialects())('brings back rows and knowledge from the files: list, get, context and search see them; bad files are skipped; rows that exist stay (%s)', async (dialect) => {
    const resultsDir = join(dir, dialect, 'results');
    const project = join(dir, dialect, 'project');
    mkdirSync(project, { recursive: true });

    // results stored through the repo, over the first database
    const first = await freshStore(dialect);
    const before = new ResultsRepo(first.store, resultsDir, new Knowledge(first.store));
    await before.save(result('issue-123', 'chief-architect', 'Design of the payments API', ['Use PostgreSQL for payments']));
    await before.save(result('issue-123', 'python-specialist', 'Implemented refunds', ['Retry refunds twice']));
    await before.save(result('issue-9', 'test-engineer', 'the file version'));
    // more than one round of files (rounds of 64)
    const many = 150;
    await Promise.all(Array.from({ length: many }, (_x, i) => before.save(result(`bulk-${i}`, 'python-specialist', `bulk result ${i}`))));
    await before.close();
    const stored = 3 + many;

    // files that are no result of their place: skipped, left on disk
    mkdirSync(join(resultsDir, 'issue-bad'), { recursive: true });
    writeFileSync(join(resultsDir, 'issue-bad', 'python-specialist.json'), '{not json');
    writeFileSync(join(resultsDir, 'issue-bad', 'test-engineer.json'), JSON.stringify({ ...result('issue-bad', 'test-engineer', 'x'), result: { status: 'weird' }, stored_at: 1 }));
    writeFileSync(join(resultsDir, 'issue-bad', 'chief-architect.json'), JSON.stringify({ ...result('issue-123', 'chief-architect', 'a copy elsewhere'), stored_at: 1 }));

    // the database is deleted: a new one; one result already has a row there (another version)
    const second = await freshStore(dialect);
    const keptFile = join(resultsDir, 'issue-9', 'test-engineer.json');
    const keptText = readFileSync(keptFile, 'utf8');
    const keptMtime = statSync(keptFile).mtimeMs;
    const storeDoc = { ...result('issue-9', 'test-engineer', 'the store version'), stored_at: 5 };
    await second.store.db
      .insertInto('sidecar_results')
      .values({ issue_id: 'issue-9', agent_type: 'test-engineer', agent_id: 'test-engineer-1', status: 'success', stored_at: 5, file: keptFile, bytes: 10, body: JSON.stringify(storeDoc) })
      .execute();

    const log = recordingLogger();
    const knowledge = new Knowledge(second.store);
    const results = new ResultsRepo(second.store, resultsDir, knowledge, { logger: log.logger });
    // the full comparison, as `--reindex-results` asks for it (a plain start would too here: fewer issues than folders)
    expect(await results.recover({ reindexAll: true })).toBe(stored - 1);
    expect(log.info).toHaveBeenCalledWith({ files: stored - 1 }, expect.stringContaining('re-indexed'));
    const [skippedLog] = log.warn.mock.calls[0] as [{ count: number; files: string[] }];
    expect(skippedLog.count).toBe(3);

    // list and get
    const listed = await results.list({ issues: '*', limit: 5000 });
    expect(listed.total).toBe(stored);
    const got = await results.get('issue-123', 'python-specialist');
    expect(got?.result.summary).toBe('Implemented refunds');
    expect(got?.file).toBe(join(resultsDir, 'issue-123', 'python-specialist.json'));
    expect(got?.bytes).toBe(statSync(got?.file ?? '').size);
    expect((await results.get('bulk-149', 'python-specialist'))?.result.summary).toBe('bulk result 149');
    expect(await results.get('issue-bad', 'python-specialist')).toBeUndefined();
    // the row that existed stays, and so does its file (not rewritten)
    expect((await results.get('issue-9', 'test-engineer'))?.result.summary).toBe('the store version');
    expect(readFileSync(keptFile, 'utf8')).toBe(keptText);
    expect(statSync(keptFile).mtimeMs).toBe(keptMtime);
    expect(readFileSync(join(resultsDir, 'issue-bad', 'python-specialist.json'), 'utf8')).toBe('{not json');

    // knowledge, and the context of the issue
    // as a save indexes it: the decision, and the result's text
    const hits = await knowledge.search({ q: 'PostgreSQL', issues: '*' });
    expect(hits.map((h) => `${h.issue_id} ${h.agent_type} ${h.kind}`).sort()).toEqual(['issue-123 chief-architect decision', 'issue-123 chief-architect result']);
    const snapshots = new ProjectSnapshots();
    try {
      const ctx = new ContextBuilder({ snapshots, results, knowledge, agents: new AgentsRepo(second.store) }, { maxBytes: 64 * 1024, defaultFileBytes: 8 * 1024 });
      const agent = agentDef('python-specialist', { context: { include: ['**/*.py'], upstream: ['chief-architect'] } });
      const built = JSON.parse((await ctx.get({ root: project, issueId: 'issue-123', agent, issues: '*' })).json.toString()) as {
        previous_results: { agent_type: string }[];
        decisions: { decision: string }[];
      };
      expect(built.previous_results.map((r) => r.agent_type).sort()).toEqual(['chief-architect', 'python-specialist']);
      expect(built.decisions.map((d) => d.decision)).toEqual(expect.arrayContaining(['Use PostgreSQL for payments', 'Retry refunds twice']));
    } finally {
      snapshots.close();
    }

    // a second start finds nothing to re-index
    expect(await results.recover()).toBe(0);
    expect(await results.list({ issues: '*', limit: 5000 })).toMatchObject({ total: stored });
    await results.close();
  }, 60_000);
});

/** The real lister, its calls recorded. */
function spyLister() {
  const issueFolderCount = vi.fn((root: string) => resultFolderLister.issueFolderCount(root));
  const resultFiles = vi.fn((root: string) => resultFolderLister.resultFiles(root));
  return { lister: { issueFolderCount, resultFiles } satisfies ResultFolderLister, issueFolderCount, resultFiles };
}

describe('a start compares the result files with the rows only when the store knows fewer issues than there are issue folders', () => {
  /** A results folder with `n` results stored over a first database (closed). */
  async function folderWith(dialect: 'sqlite' | 'postgres', name: string, n: number): Promise<string> {
    const resultsDir = join(dir, dialect, name);
    const first = await freshStore(dialect);
    const repo = new ResultsRepo(first.store, resultsDir, new Knowledge(first.store));
    await Promise.all(Array.from({ length: n }, (_x, i) => repo.save(result(`issue-${i}`, 'python-specialist', `result ${i}`))));
    await repo.close();
    return resultsDir;
  }

  it.each(testDialects())('a start whose store knows every issue folder lists no result file (%s)', async (dialect) => {
    const resultsDir = join(dir, dialect, 'all-known');
    const t = await freshStore(dialect);
    const repo = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store));
    for (let i = 0; i < 5; i++) await repo.save(result(`issue-${i}`, 'python-specialist', `result ${i}`));
    await repo.save(result('issue-0', 'test-engineer', 'a second agent of one issue'));
    await repo.close();
    const spy = spyLister();
    const results = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store), { lister: spy.lister });
    expect(await results.recover()).toBe(0);
    expect(spy.issueFolderCount).toHaveBeenCalledTimes(1);
    expect(spy.resultFiles).not.toHaveBeenCalled();
    await results.close();
  }, 60_000);

  it.each(testDialects())('a store restored from an older backup (fewer issues than folders) gets the newer results back at start, once (%s)', async (dialect) => {
    const resultsDir = await folderWith(dialect, 'older-backup', 5);
    const t = await freshStore(dialect);
    // the backup was taken after the first result: it has that row, the other four files have none
    const repo = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store));
    await repo.save(result('issue-0', 'python-specialist', 'result 0'));
    await repo.close();
    const spy = spyLister();
    const log = recordingLogger();
    const results = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store), { lister: spy.lister, logger: log.logger });
    expect(await results.recover()).toBe(4);
    expect(spy.resultFiles).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith({ files: 4 }, expect.stringMatching(/re-indexed result files/));
    expect((await results.list({ issues: '*', limit: 100 })).total).toBe(5);
    expect((await results.get('issue-3', 'python-specialist'))?.result.summary).toBe('result 3');
    // the next start: every issue known, nothing listed
    expect(await results.recover()).toBe(0);
    expect(spy.resultFiles).toHaveBeenCalledTimes(1);
    await results.close();
  }, 60_000);

  it.each(testDialects())('a missing result of a known issue comes back with --reindex-results (the marker), not at a plain start (%s)', async (dialect) => {
    const resultsDir = join(dir, dialect, 'known-issue');
    const first = await freshStore(dialect);
    const before = new ResultsRepo(first.store, resultsDir, new Knowledge(first.store));
    await before.save(result('issue-7', 'python-specialist', 'first agent'));
    await before.save(result('issue-7', 'test-engineer', 'second agent'));
    await before.close();
    // a backup taken between the two agents
    const t = await freshStore(dialect);
    const backup = new ResultsRepo(t.store, join(dir, dialect, 'known-issue-elsewhere'), new Knowledge(t.store));
    await backup.save(result('issue-7', 'python-specialist', 'first agent'));
    await backup.close();
    const spy = spyLister();
    const results = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store), { lister: spy.lister });
    expect(await results.recover()).toBe(0);
    expect(spy.resultFiles).not.toHaveBeenCalled();
    expect(requestResultsReindex(resultsDir)).toBe(join(resultsDir, '.reindexing'));
    expect(await results.recover()).toBe(1);
    expect((await results.get('issue-7', 'test-engineer'))?.result.summary).toBe('second agent');
    expect(existsSync(join(resultsDir, '.reindexing'))).toBe(false);
    await results.close();
  }, 60_000);

  it.each(testDialects())('issue folders that hold no valid result are compared once, and again only when another folder appears (%s)', async (dialect) => {
    const resultsDir = join(dir, dialect, 'stray-folder');
    const t = await freshStore(dialect);
    const repo = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store));
    await repo.save(result('issue-1', 'python-specialist', 'result 1'));
    await repo.close();
    // left by hand: a folder named as an issue, no result document in it
    mkdirSync(join(resultsDir, 'issue-stray'), { recursive: true });
    writeFileSync(join(resultsDir, 'issue-stray', 'notes.txt'), 'not a result');
    const spy = spyLister();
    const results = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store), { lister: spy.lister });
    expect(await results.recover()).toBe(0);
    expect(spy.resultFiles).toHaveBeenCalledTimes(1);
    expect(await results.recover()).toBe(0);
    expect(await results.recover()).toBe(0);
    expect(spy.resultFiles).toHaveBeenCalledTimes(1);
    // a result file copied in from elsewhere, in a new folder: compared again, and indexed
    mkdirSync(join(resultsDir, 'issue-copied'), { recursive: true });
    writeFileSync(join(resultsDir, 'issue-copied', 'test-engineer.json'), JSON.stringify({ ...result('issue-copied', 'test-engineer', 'copied in'), stored_at: 1 }));
    expect(await results.recover()).toBe(1);
    expect(spy.resultFiles).toHaveBeenCalledTimes(2);
    await results.close();
  }, 60_000);

  it.each(testDialects())('a start with an empty store (the database deleted) re-indexes every file (%s)', async (dialect) => {
    const resultsDir = await folderWith(dialect, 'store-empty', 5);
    const t = await freshStore(dialect);
    const spy = spyLister();
    const results = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store), { lister: spy.lister });
    expect(await results.recover()).toBe(5);
    expect(spy.issueFolderCount).toHaveBeenCalledTimes(1);
    expect(spy.resultFiles).toHaveBeenCalledTimes(1);
    expect((await results.get('issue-4', 'python-specialist'))?.result.summary).toBe('result 4');
    await results.close();
  }, 60_000);

  it.each(testDialects())('an empty store and a folder with no issue folder list nothing further (%s)', async (dialect) => {
    const resultsDir = join(dir, dialect, 'no-issues');
    // what a first start leaves: the journal and repair folders, no result yet
    mkdirSync(join(resultsDir, '.repairs'), { recursive: true });
    const t = await freshStore(dialect);
    const spy = spyLister();
    const results = new ResultsRepo(t.store, resultsDir, new Knowledge(t.store), { lister: spy.lister });
    expect(await results.recover()).toBe(0);
    expect(spy.issueFolderCount).toHaveBeenCalledTimes(1);
    expect(spy.resultFiles).not.toHaveBeenCalled();
    await results.close();
  }, 60_000);
});

describe('a re-index cut short', () => {
  it.each(testDialects())('is taken up again at the next start (the marker file), though rows are there by then (%s)', async (dialect) => {
    const resultsDir = join(dir, `${dialect}-cut`, 'results');
    const first = await freshStore(dialect);
    const before = new ResultsRepo(first.store, resultsDir, new Knowledge(first.store));
    for (let i = 0; i < 10; i++) await before.save(result(`cut-${i}`, 'python-specialist', `result ${i}`));
    await before.close();
    // a new database that got one round's rows before the daemon was killed, its marker left behind
    const second = await freshStore(dialect);
    const partial = new ResultsRepo(second.store, join(dir, `${dialect}-cut`, 'other'), new Knowledge(second.store));
    await partial.save(result('cut-0', 'python-specialist', 'result 0'));
    await partial.close();
    writeFileSync(join(resultsDir, '.reindexing'), 'cut short\n');
    const results = new ResultsRepo(second.store, resultsDir, new Knowledge(second.store));
    expect(await results.recover()).toBe(9);
    expect((await results.list({ issues: '*', limit: 100 })).total).toBe(10);
    // finished: the next start does not scan again
    expect(() => statSync(join(resultsDir, '.reindexing'))).toThrow();
    expect(await results.recover()).toBe(0);
    await results.close();
  });
});
