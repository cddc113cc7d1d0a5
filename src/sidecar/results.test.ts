import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { Knowledge } from './knowledge.js';
import { ResultsRepo } from './results.js';
import { WalAccount } from './wal-account.js';

describe('ResultsRepo rows (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-results-rows-'));
  const stores: TestStore[] = [];
  afterAll(async () => {
    for (const t of stores) await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a result stored again updates its row in place: same id, and no write of sqlite_sequence', async () => {
    const t = await openTestStore('sqlite');
    stores.push(t);
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
    const t = await openTestStore('sqlite');
    stores.push(t);
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
