import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { ResultFiles } from './durable-files.js';
import type { FileWrite } from './durable-files.js';
import { failingWriter } from './failing-writer.js';
import { Knowledge } from './knowledge.js';
import { ResultsRepo } from './results.js';
import { WalAccount } from './wal-account.js';

/** A temp folder and the SQLite stores a describe block opens, all removed after it. */
function scratch(prefix: string): { dir: string; store(): Promise<TestStore> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const stores: TestStore[] = [];
  afterAll(async () => {
    for (const t of stores) await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    async store() {
      const t = await openTestStore('sqlite');
      stores.push(t);
      return t;
    },
  };
}

describe('ResultsRepo rows (SQLite)', () => {
  const { dir, store } = scratch('cco-results-rows-');

  it('a result stored again updates its row in place: same id, and no write of sqlite_sequence', async () => {
    const t = await store();
    const knowledge = new Knowledge(t.store);
    const results = new ResultsRepo(t.store, join(dir, 'results'), knowledge);
    const input = (n: number) => ({ agent_id: 'a-1', agent_type: 'python-specialist', issue_id: 'issue-w', result: { status: 'success' as const, summary: `round ${n}` } });
    await results.save(input(1));
    await knowledge.flush();
    const first = await t.store.db.selectFrom('sidecar_results').select('id').executeTakeFirstOrThrow();

    const account = new WalAccount(t.store.location);
    account.start();
    await results.save(input(2));
    const wal = account.stop();
    account.close();
    expect(wal.byTree.sidecar_results).toBeGreaterThan(0);
    expect(wal.byTree.sqlite_sequence).toBeUndefined();
    const rows = await t.store.db.selectFrom('sidecar_results').select(['id', 'body']).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(first.id);
    expect(JSON.parse(rows[0]?.body ?? '{}')).toMatchObject({ result: { summary: 'round 2' } });
    // a new (issue, agent type) is a new row
    await results.save({ ...input(3), issue_id: 'issue-x' });
    expect(await t.store.db.selectFrom('sidecar_results').select('id').execute()).toHaveLength(2);
    expect((await results.get('issue-x', 'python-specialist'))?.result.summary).toBe('round 3');
    await results.close();
  });

  it('stores many large results given at once, and one far larger, with their files (the file thread\'s heap holds them)', async () => {
    const t = await store();
    const results = new ResultsRepo(t.store, join(dir, 'results-big'), new Knowledge(t.store), { maxResultBytes: 32 * 1024 * 1024 });
    const big = (issue: string, bytes: number) => ({ agent_id: 'a-1', agent_type: 'python-specialist', issue_id: issue, result: { status: 'success' as const, summary: 'x'.repeat(bytes) } });
    // 80 results of 1 MB in one turn: one round of them ran a 64 MB heap out, and every one failed
    const many = await Promise.all(Array.from({ length: 80 }, (_x, i) => results.save(big(`issue-${i}`, 1024 * 1024))));
    for (const r of many) expect(statSync(r.file).size).toBe(r.bytes);
    // one of 24 MB (the limit is 32 MB here)
    const one = await results.save(big('issue-huge', 24 * 1024 * 1024));
    expect(existsSync(one.file) && statSync(one.file).size).toBe(one.bytes);
    expect(await t.store.db.selectFrom('sidecar_results').select('id').execute()).toHaveLength(81);
    await results.close();
  }, 60_000);
});

/** Tests: result files whose round fails (nothing written) when a text holds a marker of `failOn` (marker → rounds to fail). */
class FlakyFiles extends ResultFiles {
  readonly failOn = new Map<string, number>();
  override async write(items: readonly FileWrite[]): Promise<(Error | undefined)[]> {
    const marker = [...this.failOn.keys()].find((m) => items.some((it) => it.data?.includes(m)));
    if (marker === undefined) return super.write(items);
    const left = (this.failOn.get(marker) ?? 1) - 1;
    if (left > 0) this.failOn.set(marker, left);
    else this.failOn.delete(marker);
    return items.map(() => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
  }
}

describe('ResultsRepo when one half of a save fails (file or row)', () => {
  const { dir, store } = scratch('cco-results-half-');
  const input = (summary: string) => ({ agent_id: 'a-1', agent_type: 'python-specialist', issue_id: 'issue-h', result: { status: 'success' as const, summary } });
  const summaryIn = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { result: { summary: string } }).result.summary;

  /** File and row hold `summary`, and still do after a recovery of what was journalled. */
  async function bothSayThenAfterRecovery(w: Awaited<ReturnType<typeof world>>, summary: string): Promise<void> {
    expect(summaryIn(w.file)).toBe(summary);
    expect((await w.results.get('issue-h', 'python-specialist'))?.result.summary).toBe(summary);
    const again = await w.recovered();
    expect(summaryIn(w.file)).toBe(summary);
    expect((await again.get('issue-h', 'python-specialist'))?.result.summary).toBe(summary);
    await again.close();
  }

  async function world(name: string, rowFails: 'before' | 'after' = 'before') {
    const t = await store();
    const root = join(dir, name);
    const writer = failingWriter(t.store, rowFails);
    const files = new FlakyFiles(root);
    const results = new ResultsRepo(t.store, root, new Knowledge(t.store), { writer, files });
    const file = results.fileOf('issue-h', 'python-specialist');
    /** A second repo on the same folder and store, recovering what the first journalled (as after a crash). */
    const recovered = async () => {
      const again = new ResultsRepo(t.store, root, new Knowledge(t.store));
      await again.recover();
      return again;
    };
    return { t, writer, files, results, file, recovered };
  }

  it('a first result whose row fails leaves no file, and recovery does not bring it back', async () => {
    const w = await world('first-row-fails');
    w.writer.failures = 1;
    await expect(w.results.save(input('never stored'))).rejects.toThrow('disk I/O error');
    expect(existsSync(w.file)).toBe(false);
    expect(await w.results.get('issue-h', 'python-specialist')).toBeUndefined();
    const again = await w.recovered();
    expect(existsSync(w.file)).toBe(false);
    expect(await again.get('issue-h', 'python-specialist')).toBeUndefined();
    await again.close();
  });

  it('a result whose row fails puts the stored one back in the file, and recovery agrees', async () => {
    const w = await world('row-fails');
    await w.results.save(input('stored A'));
    w.writer.failures = 1;
    await expect(w.results.save(input('failed B'))).rejects.toThrow('disk I/O error');
    await bothSayThenAfterRecovery(w, 'stored A');
  });

  it('a result whose row fails while the store cannot even be read: the file follows the row once it can, or at the next start', async () => {
    for (const when of ['store back', 'restart'] as const) {
      const w = await world(`row-and-read-fail-${when.replace(' ', '-')}`);
      await w.results.save(input('stored A'));
      // the database is gone: the row's commit fails, and so does the read that would repair the file
      let down = true;
      const db = w.t.store.db;
      const flaky = new Proxy(db, { get: (target, prop, recv) => (down && prop === 'selectFrom' ? () => { throw new Error('Connection terminated unexpectedly'); } : Reflect.get(target, prop, recv)) });
      Object.defineProperty(w.t.store, 'db', { value: flaky, configurable: true });
      w.writer.failures = 1;
      await expect(w.results.save(input('failed B'))).rejects.toThrow('disk I/O error');
      expect(summaryIn(w.file)).toBe('failed B');
      const markers = join(dir, `row-and-read-fail-${when.replace(' ', '-')}`, '.repairs');
      expect(readdirSync(markers)).toHaveLength(1);
      down = false;
      Object.defineProperty(w.t.store, 'db', { value: db, configurable: true });
      if (when === 'store back') {
        for (let i = 0; i < 100 && summaryIn(w.file) !== 'stored A'; i++) await new Promise((r) => setTimeout(r, 20));
        expect(readdirSync(markers)).toHaveLength(0);
        await bothSayThenAfterRecovery(w, 'stored A');
      } else {
        // the daemon stops (or dies) before the store is back: the marker outlives it
        await w.results.close();
        expect(summaryIn(w.file)).toBe('failed B');
        const again = await w.recovered();
        expect(summaryIn(w.file)).toBe('stored A');
        expect(readdirSync(markers)).toHaveLength(0);
        await again.close();
      }
    }
  });

  it('a result whose row was committed although its commit was reported failed is stored, file and row', async () => {
    const w = await world('row-committed-after-all', 'after');
    await w.results.save(input('stored A'));
    w.writer.failures = 1;
    w.files.failOn.set('B committed', 1);
    expect((await w.results.save(input('B committed'))).result.summary).toBe('B committed');
    expect(summaryIn(w.file)).toBe('B committed');
    expect((await w.results.get('issue-h', 'python-specialist'))?.result.summary).toBe('B committed');
    await w.results.close();
  });

  it('a result whose file fails once while its row committed is written again and stored', async () => {
    const w = await world('file-fails-once');
    await w.results.save(input('stored A'));
    w.files.failOn.set('B once', 1);
    const b = await w.results.save(input('B once'));
    expect(b.result.summary).toBe('B once');
    expect(summaryIn(w.file)).toBe('B once');
    expect((await w.results.get('issue-h', 'python-specialist'))?.result.summary).toBe('B once');
    // a file that cannot be written at all fails the save
    w.files.failOn.set('C never', 2);
    await expect(w.results.save(input('C never'))).rejects.toThrow('ENOSPC');
    // its row is committed: once the disk takes writes again, the file follows it (it stayed
    // 'B once' beside a 'C never' row for good)
    await expect.poll(() => summaryIn(w.file), { timeout: 3000 }).toBe('C never');
    await w.results.close();
  });

  it('two results crossing (the first row fails, the second file fails) end with file and row of the second', async () => {
    const w = await world('crossing');
    await w.results.save(input('stored A'));
    w.writer.failures = 1;
    w.files.failOn.set('second', 1);
    const first = w.results.save(input('first'));
    // the first's rounds are running: the second's parts wait for the next ones
    await new Promise((r) => setImmediate(r));
    const second = w.results.save(input('second'));
    await expect(first).rejects.toThrow('disk I/O error');
    expect((await second).result.summary).toBe('second');
    await bothSayThenAfterRecovery(w, 'second');
  });
});

describe('two saves of one result within a millisecond', () => {
  it('the second, whose row failed, is not acknowledged with the first one\'s row (stored_at tells them apart)', async () => {
    const t = await openTestStore('sqlite');
    const root = join(mkdtempSync(join(tmpdir(), 'cco-same-ms-')), 'results');
    const writer = failingWriter(t.store, 'before');
    const results = new ResultsRepo(t.store, root, new Knowledge(t.store), { writer });
    const input = (summary: string) => ({ agent_id: 'a-1', agent_type: 'python-specialist', issue_id: 'issue-ms', result: { status: 'success' as const, summary } });
    const realNow = Date.now;
    const frozen = realNow();
    Date.now = () => frozen;
    try {
      const a = await results.save(input('A'));
      writer.failures = 1;
      const b = await results.save(input('B')).then(
        (r) => `acknowledged ${r.result.summary}`,
        () => 'refused',
      );
      expect(b).toBe('refused');
      expect(a.stored_at).toBeLessThan(frozen + 2);
    } finally {
      Date.now = realNow;
    }
    // what is served and the file agree, on A
    expect((await results.get('issue-ms', 'python-specialist'))?.result.summary).toBe('A');
    await results.close();
    await t.cleanup();
  });
});
