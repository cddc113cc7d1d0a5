/**
 * The daemon's event loop while the sidecar's write thread writes: what a write through the
 * store's connection costs the rest of the daemon.
 *
 * A second connection on a thread of this process (as `ThreadSqliteWriter`) holds SQLite's write
 * lock H ms at a time, commits, and checkpoints (after its commits and every second, as the
 * write thread does). Meanwhile the main thread inserts a row every 5 ms for 3 s, and the event
 * loop's delay is recorded, with
 * - the baseline: a plain better-sqlite3 connection as Kysely's SqliteDialect uses it
 *   (`busy_timeout` 5 s, automatic checkpoints on): a statement that meets the lock sleeps in
 *   SQLite's busy handler, and a commit past 1,000 WAL pages copies them, on the event loop;
 * - the store (`openStore`): busy statements retried after a timer, checkpoints delegated to the
 *   thread (`Store.delegateCheckpoints`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { openStore } from '../src/store/store.js';

const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 3);
const HOLDS: [number, number][] = [
  [0.5, 3],
  [2, 3],
  [5, 10],
];

/** The other writer: holds the write lock `hold` ms, then `gap` ms free; checkpoints as the write thread does. */
function otherWriter(file: string, hold: number, gap: number): Worker {
  return new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.file, { timeout: 5000 });
    db.pragma('synchronous = NORMAL');
    const ins = db.prepare('insert into other (v) values (?)');
    setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), 1000);
    const tx = db.transaction(() => {
      const t = performance.now();
      while (performance.now() - t < workerData.hold) ins.run('x'.repeat(200));
    });
    (function loop() {
      tx.immediate();
      setTimeout(loop, workerData.gap);
    })();
    `,
    { eval: true, workerData: { file, module: createRequire(import.meta.url).resolve('better-sqlite3'), hold, gap } },
  );
}

interface Figures {
  loopP99: number;
  loopMax: number;
  insertP50: number;
  insertP99: number;
}

async function measure(kind: 'baseline' | 'store', hold: number, gap: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'cco-store-bench-'));
  const file = join(dir, 'cco.db');
  let db: Kysely<unknown>;
  let close: () => Promise<void>;
  if (kind === 'store') {
    const store = await openStore({ sqlitePath: file, migrate: false });
    store.delegateCheckpoints?.();
    db = store.db as unknown as Kysely<unknown>;
    close = () => store.close();
  } else {
    const raw = new SQLite(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 5000');
    db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    close = () => db.destroy();
  }
  await sql`create table other (id integer primary key, v text)`.execute(db);
  await sql`create table mine (id integer primary key, v text)`.execute(db);
  const other = otherWriter(file, hold, gap);
  await new Promise((r) => setTimeout(r, 200));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const inserts: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await sql`insert into mine (v) values ('main')`.execute(db);
    inserts.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  loop.disable();
  await other.terminate();
  await close();
  rmSync(dir, { recursive: true, force: true });
  inserts.sort((a, b) => a - b);
  const at = (p: number): number => inserts[Math.min(inserts.length - 1, Math.floor(p * inserts.length))] ?? NaN;
  return { loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, insertP50: at(0.5), insertP99: at(0.99) };
}

export async function run(): Promise<void> {
  const f = (x: number): string => x.toFixed(2);
  console.log(`\nThe event loop while another thread of the process holds SQLite's write lock (${SECONDS} s each; the histogram's resolution is 1 ms)\n`);
  console.log('| lock held | connection | event-loop delay p99 ms | longest stall ms | insert p50 ms | insert p99 ms | stall ratio to baseline |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const [hold, gap] of HOLDS) {
    const base = await measure('baseline', hold, gap);
    const store = await measure('store', hold, gap);
    const label = `${hold} ms every ${hold + gap} ms`;
    console.log(`| ${label} | plain better-sqlite3 (busy_timeout, auto-checkpoint) | ${f(base.loopP99)} | ${f(base.loopMax)} | ${f(base.insertP50)} | ${f(base.insertP99)} | 1.00 |`);
    console.log(`| ${label} | the store | ${f(store.loopP99)} | ${f(store.loopMax)} | ${f(store.insertP50)} | ${f(store.insertP99)} | ${f(store.loopMax / base.loopMax)} |`);
  }
}
