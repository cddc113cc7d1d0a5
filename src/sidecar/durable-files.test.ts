import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestStore, testDialects } from '../testing/test-store.js';
import { ResultFiles, readJournal } from './durable-files.js';
import { Knowledge } from './knowledge.js';
import { ResultsRepo } from './results.js';

/** A pid no process has (above the kernel's limit). */
const DEAD_PID = 4_194_304 + 17;

function frame(file: string, data: string): Buffer {
  const payload = Buffer.from(JSON.stringify({ f: file, d: data }));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

describe('ResultFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'cco-result-files-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes whole files (0600) in batches, replaces them in place and checkpoints its journal on close', async () => {
    const files = new ResultFiles(root);
    const a = join(root, 'issue-1', 'architect.json');
    const b = join(root, 'issue-2', 'tester.json');
    expect(await files.write([{ file: a, data: '{"v":1}' }, { file: b, data: '{"w":1}' }])).toEqual([undefined, undefined]);
    expect(readFileSync(a, 'utf8')).toBe('{"v":1}');
    expect(statSync(a).mode & 0o777).toBe(0o600);
    // the journal holds the batch before the files change
    const journals = readdirSync(files.journalDir);
    expect(journals).toHaveLength(1);
    expect(readJournal(join(files.journalDir, journals[0] as string)).map((e) => e.data)).toEqual(['{"v":1}', '{"w":1}']);
    for (let i = 2; i < 6; i++) await files.write([{ file: a, data: JSON.stringify({ v: i, pad: 'x'.repeat(i * 1000) }) }]);
    expect(JSON.parse(readFileSync(a, 'utf8'))).toMatchObject({ v: 5 });
    await files.write([{ file: a, data: '{"v":6}' }]);
    // a shorter content leaves nothing of the longer one behind
    expect(readFileSync(a, 'utf8')).toBe('{"v":6}');
    // the file and the inode kept for its next write, nothing else
    expect(readdirSync(join(root, 'issue-1')).sort()).toEqual(['.architect.json.spare', 'architect.json']);
    await files.close();
    expect(readdirSync(files.journalDir)).toEqual([]);
  });

  it('reports a file that cannot be written without failing the rest of its batch', async () => {
    const files = new ResultFiles(root);
    writeFileSync(join(root, 'blocker'), 'x');
    const ok = join(root, 'issue-3', 'x.json');
    const errors = await files.write([{ file: join(root, 'blocker', 'y.json'), data: '1' }, { file: ok, data: '2' }]);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[1]).toBeUndefined();
    expect(readFileSync(ok, 'utf8')).toBe('2');
    await files.close();
  });

  it('never writes through a symlink planted as the spare', async () => {
    const files = new ResultFiles(root);
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'untouched');
    const f = join(root, 'issue-4', 'x.json');
    mkdirSync(join(root, 'issue-4'), { recursive: true });
    symlinkSync(outside, join(root, 'issue-4', '.x.json.spare'));
    expect(await files.write([{ file: f, data: 'new' }])).toEqual([undefined]);
    expect(readFileSync(f, 'utf8')).toBe('new');
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
    await files.close();
  });

  it('replays the journals of a crashed process: newest content per file, up to a torn tail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-journal-'));
    try {
      const files = new ResultFiles(dir);
      const a = join(dir, 'i', 'a.json');
      const b = join(dir, 'i', 'b.json');
      mkdirSync(files.journalDir, { recursive: true });
      const torn = frame(b, 'torn').subarray(0, 20);
      writeFileSync(join(files.journalDir, `${DEAD_PID}-0.log`), Buffer.concat([frame(a, 'a1'), frame(b, 'b1'), frame(a, 'a2'), torn]));
      // a live process's journal is not ours to replay
      writeFileSync(join(files.journalDir, `${process.ppid}-0.log`), frame(a, 'other daemon'));
      const { journals, entries } = files.pendingJournals();
      expect(journals).toEqual([join(files.journalDir, `${DEAD_PID}-0.log`)]);
      expect(entries).toEqual([
        { file: a, data: 'a2' },
        { file: b, data: 'b1' },
      ]);
      await files.finishRecovery(journals, entries);
      expect(readFileSync(a, 'utf8')).toBe('a2');
      expect(readFileSync(b, 'utf8')).toBe('b1');
      expect(readdirSync(files.journalDir)).toEqual([`${process.ppid}-0.log`]);
      await files.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a journal left under this pid by an earlier run (a recovery that failed) until it is replayed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-journal-'));
    try {
      const files = new ResultFiles(dir, { rotateBytes: 1 });
      const a = join(dir, 'i', 'a.json');
      const b = join(dir, 'i', 'b.json');
      mkdirSync(files.journalDir, { recursive: true });
      // what a run with the same pid (PID 1 in a container) left
      writeFileSync(join(files.journalDir, `${process.pid}-0.log`), frame(a, 'left by the last run'));
      // this run writes (and, past its rotation size, checkpoints and deletes its own journals)
      expect(await files.write([{ file: b, data: 'b1' }])).toEqual([undefined]);
      expect(await files.write([{ file: b, data: 'b2' }])).toEqual([undefined]);
      await files.close();
      // and a journal of this version's naming (<pid>-<run>-<seq>) left by a crash is replayed too
      const c = join(dir, 'i', 'c.json');
      writeFileSync(join(files.journalDir, `${DEAD_PID}-mxk2a1b-3.log`), frame(c, 'c1'));
      const again = new ResultFiles(dir);
      const { entries } = again.pendingJournals();
      expect(entries.find((e) => e.file === a)?.data).toBe('left by the last run');
      expect(entries.find((e) => e.file === c)?.data).toBe('c1');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync('/dev/full'))('after a failed journal append (a full disk), the next round goes to a new journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-journal-'));
    try {
      const files = new ResultFiles(dir);
      const a = join(dir, 'i', 'a.json');
      mkdirSync(files.journalDir, { recursive: true });
      // the journal this round appends to is a device whose writes fail with ENOSPC
      const first = (files as unknown as { journalPath(seq: number): string }).journalPath(0);
      symlinkSync('/dev/full', first);
      const [err] = await files.write([{ file: a, data: 'a1' }]);
      expect(err?.message).toMatch(/result journal: .*ENOSPC/);
      expect(await files.write([{ file: a, data: 'a2' }])).toEqual([undefined]);
      expect(readFileSync(a, 'utf8')).toBe('a2');
      await files.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replays a journal written before the machine booted, even if its pid is alive again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-journal-'));
    try {
      const files = new ResultFiles(dir);
      const a = join(dir, 'i', 'a.json');
      mkdirSync(files.journalDir, { recursive: true });
      const old = join(files.journalDir, `${process.ppid}-0.log`);
      writeFileSync(old, frame(a, 'before the reboot'));
      utimesSync(old, new Date(0), new Date(0));
      const { journals, entries } = files.pendingJournals();
      expect(journals).toEqual([old]);
      expect(entries).toEqual([{ file: a, data: 'before the reboot' }]);
      await files.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ResultsRepo.recover makes file and row equal to the newer of journal and store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-recover-'));
    const t = await openTestStore('sqlite');
    try {
      const results = new ResultsRepo(t.store, dir, new Knowledge(t.store));
      const input = (issue: string, n: number) => ({ agent_id: 'a-1', agent_type: 'python-specialist', issue_id: issue, result: { status: 'success' as const, summary: `round ${n}`, decisions: [`decision ${n}`] } });
      const doc = (issue: string, n: number, at: number) => ({ ...input(issue, n), stored_at: at });
      // issue-a: the store has round 1, the journal round 2 (a commit lost with the power)
      const rowA = await results.save(input('issue-a', 1));
      // issue-b: the store has a newer row than the journal (its journal append never happened)
      await results.save(input('issue-b', 9));
      await results.close();
      const fa = results.fileOf('issue-a', 'python-specialist');
      const fb = results.fileOf('issue-b', 'python-specialist');
      rmSync(fa);
      writeFileSync(fb, 'torn');
      const journalDir = join(dir, '.journal');
      mkdirSync(journalDir, { recursive: true });
      writeFileSync(
        join(journalDir, `${DEAD_PID}-3.log`),
        Buffer.concat([frame(fa, JSON.stringify(doc('issue-a', 2, rowA.stored_at + 1), null, 2)), frame(fb, JSON.stringify(doc('issue-b', 8, 1), null, 2))]),
      );

      const again = new ResultsRepo(t.store, dir, new Knowledge(t.store));
      expect(await again.recover()).toBe(2);
      expect(JSON.parse(readFileSync(fa, 'utf8'))).toMatchObject({ result: { summary: 'round 2' } });
      expect((await again.get('issue-a', 'python-specialist'))?.result.summary).toBe('round 2');
      expect(JSON.parse(readFileSync(fb, 'utf8'))).toMatchObject({ result: { summary: 'round 9' } });
      expect((await again.get('issue-b', 'python-specialist'))?.result.summary).toBe('round 9');
      // the recovered decision is searchable
      expect((await new Knowledge(t.store).search({ q: 'decision', issues: ['issue-a'] })).map((h) => h.content)).toContain('decision 2');
      expect(existsSync(join(journalDir, `${DEAD_PID}-3.log`))).toBe(false);
      expect(await again.recover()).toBe(0);
      await again.close();
    } finally {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ResultsRepo.recover puts a result journalled under a results folder that has moved where it belongs now, newest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-moved-'));
    const t = await openTestStore('sqlite');
    try {
      const doc = (n: number, at: number) => JSON.stringify({ agent_id: 'a-1', agent_type: 'tester', issue_id: 'issue-m', result: { status: 'success', summary: `round ${n}` }, stored_at: at }, null, 2);
      const journalDir = join(dir, '.journal');
      mkdirSync(journalDir, { recursive: true });
      // written while the folder was elsewhere (round 2), then once here (round 1, older)
      const results = new ResultsRepo(t.store, dir, new Knowledge(t.store));
      const here = results.fileOf('issue-m', 'tester');
      writeFileSync(join(journalDir, `${DEAD_PID}-4.log`), Buffer.concat([frame('/old/home/orchestration/results/issue-m/tester.json', doc(2, 2000)), frame(here, doc(1, 1000))]));
      expect(await results.recover()).toBe(1);
      expect(JSON.parse(readFileSync(here, 'utf8'))).toMatchObject({ result: { summary: 'round 2' } });
      expect((await results.get('issue-m', 'tester'))?.result.summary).toBe('round 2');
      await results.close();
    } finally {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(testDialects())('ResultsRepo.recover indexes the knowledge of results a crash left unindexed (acknowledged before their entries were written), %s', async (dialect) => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-result-index-'));
    const t = await openTestStore(dialect);
    try {
      // a long delay: the entries are still queued when the process "dies"
      const results = new ResultsRepo(t.store, dir, new Knowledge(t.store, { delayMs: 60_000 }));
      const input = (n: number) => ({ agent_id: 'a-1', agent_type: 'python-specialist', issue_id: 'issue-k', result: { status: 'success' as const, decisions: [`use postgres ${n}`] } });
      await results.save(input(1));
      await results.save(input(2));
      const row = await t.store.db.selectFrom('sidecar_results').select(['id', 'stored_at']).executeTakeFirstOrThrow();
      const fresh = new Knowledge(t.store);
      expect(await fresh.unindexed()).toMatchObject([{ id: Number(row.id), stored_at: Number(row.stored_at) }]);
      expect(await fresh.search({ q: 'postgres', issues: '*' })).toEqual([]);

      const again = new ResultsRepo(t.store, dir, new Knowledge(t.store));
      await again.recover();
      const hits = await fresh.search({ q: 'postgres', issues: '*' });
      // the version stored last, not the one it replaced
      expect(hits.map((h) => h.content).sort()).toEqual(['success use postgres 2', 'use postgres 2']);
      expect(await fresh.unindexed()).toEqual([]);
      await again.close();
    } finally {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
