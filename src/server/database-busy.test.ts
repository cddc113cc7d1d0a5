import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { sqliteWriteLockHolders } from '../core/storage-errors.js';
import { sqliteWriteProbe, WRITE_PROBE_MS, WRITE_PROBE_REUSE_MS } from './health.js';

const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Another process (as in the review: a python3 shell) holding BEGIN EXCLUSIVE on the file until
 * it reads a line on stdin. A process of its own: /health tells this daemon's own locks apart.
 */
async function holdWriteLock(file: string): Promise<ChildProcess> {
  const script = `
    const db = new (require(${JSON.stringify(sqliteModule)}))(${JSON.stringify(file)});
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(line.toString()).toContain('locked');
  return child;
}

async function release(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.stdin!.write('release\n');
  await exited;
}

/** This process's (the daemon's) open files on the database, its -wal and -shm (Linux: /proc). */
function descriptorsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(file)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

type Health = { status: string; checks: { database: { status: string; lock?: string; error?: string; holders?: string[]; location?: string } } };

describe('"database is locked": another process holds the SQLite write lock', () => {
  let t: TestDaemon;
  let file: string;
  const health = async (): Promise<{ code: number; body: Health }> => {
    const r = await fetch(`${t.url}/health`);
    return { code: r.status, body: (await r.json()) as Health };
  };
  // /health reuses the probe's answer for WRITE_PROBE_REUSE_MS: a lock taken or given back shows after it
  const answerExpired = () => new Promise((r) => setTimeout(r, WRITE_PROBE_REUSE_MS + 50));
  const submit = () => fetch(`${t.url}/api/requirements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requirement: 'locked db test of a reasonable length' }) });

  beforeAll(async () => {
    t = await startTestDaemon();
    file = (await health()).body.checks.database.location as string;
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a write answers 503 database_busy with retry-after and /health names the lock; both recover once it is released', async () => {
    expect((await health()).body.checks.database.status).toBe('ok');
    const holder = await holdWriteLock(file);
    try {
      await answerExpired();
      const h = await health();
      expect(h.code).toBe(503);
      expect(h.body.status).toBe('degraded');
      expect(h.body.checks.database).toMatchObject({ status: 'degraded', lock: 'busy', location: file, error: expect.stringContaining('database is locked') });
      expect(h.body.checks.database.error).toContain(`fuser ${file}`);
      if (sqliteWriteLockHolders(file)) expect(h.body.checks.database.holders).toEqual([`pid ${holder.pid} node`]);

      const r = await submit();
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('database_busy');
      expect(body.error.message).toMatch(/is locked: another process holds its write lock/);
      expect(body.error.message).toMatch(/second daemon on the same CCO home/);
    } finally {
      await release(holder);
    }
    await answerExpired();
    const after = await health();
    expect(after.code).toBe(200);
    expect(after.body.checks.database).toMatchObject({ status: 'ok' });
    expect(after.body.checks.database).not.toHaveProperty('lock');
    expect((await submit()).status).toBe(202);
  }, 30_000);

  it('/health needs no credentials: while the lock is held, many calls at once share one probe, and its answer is reused for a while', async () => {
    await answerExpired();
    const holder = await holdWriteLock(file);
    try {
      const proc = existsSync('/proc/self/fd');
      const before = proc ? descriptorsOn(file) : 0;
      const t0 = performance.now();
      const calls = Array.from({ length: 40 }, () => health());
      let most = before;
      for (let i = 0; i < 6 && proc; i++) {
        await new Promise((r) => setTimeout(r, WRITE_PROBE_MS / 8));
        most = Math.max(most, descriptorsOn(file));
      }
      for (const h of await Promise.all(calls)) expect(h.body.checks.database).toMatchObject({ status: 'degraded', lock: 'busy' });
      // one probe's connection (the file and its -wal/-shm at most), not one per call (40 × 2)
      if (proc) expect(most - before).toBeLessThanOrEqual(3);
      expect(performance.now() - t0).toBeLessThan(WRITE_PROBE_MS + 1000);
      // the busy answer again, without waiting out another probe
      const t1 = performance.now();
      expect((await health()).body.checks.database.lock).toBe('busy');
      expect(performance.now() - t1).toBeLessThan(WRITE_PROBE_MS / 2);
    } finally {
      await release(holder);
    }
    // once the answer expires, the lock given back is seen
    await answerExpired();
    expect((await health()).body.checks.database.status).toBe('ok');
  }, 30_000);

  it("the daemon's own writes never make the probe report busy: a lock held by this process is its own", async () => {
    // this process (the daemon's) holds the lock longer than the probe waits: still not busy
    const own = new Database(file);
    own.exec('BEGIN IMMEDIATE');
    try {
      const probe = await sqliteWriteProbe(file, 100);
      if (sqliteWriteLockHolders(file)) expect(probe).toBeUndefined();
    } finally {
      own.exec('ROLLBACK');
      own.close();
    }
    // another process's lock held briefly (as writers do) is waited out, not reported
    const brief = await holdWriteLock(file);
    const released = new Promise((r) => setTimeout(r, 150)).then(() => release(brief));
    expect(await sqliteWriteProbe(file, 2000)).toBeUndefined();
    await released;
  });
});
