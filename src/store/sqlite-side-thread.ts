import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../core/errors.js';

/** One statement run by `runOffThread`, and how long it took. */
export interface SideStatementTiming {
  sql: string;
  ms: number;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: workerData.busyMs });
const timings = [];
let current = '';
try {
  for (const s of workerData.statements) {
    current = s;
    const t0 = performance.now();
    db.exec(s);
    timings.push({ sql: s, ms: Math.round(performance.now() - t0) });
  }
  parentPort.postMessage({ ok: true, timings });
} catch (e) {
  parentPort.postMessage({ ok: false, timings, sql: current, error: String(e && e.message || e) });
} finally {
  db.close();
}
`;

/**
 * Runs SQL statements one after another on a connection of their own, in a worker thread, and
 * resolves with their timings.
 *
 * For long maintenance statements on a SQLite file (REINDEX, CREATE INDEX: ~0.4–0.8 s per index of
 * a million rows): better-sqlite3 is synchronous, so on the store's connection they would hold the
 * event loop, and every request of the process, for all that time. Run here, each statement holds
 * only SQLite's write lock; the store's connection retries its writes meanwhile without blocking
 * (`sqlite-nonblocking.ts`), and reads go on (WAL). Separate statements, not one transaction, so
 * that the lock is given back between them.
 */
export function runOffThread(file: string, statements: string[], busyMs = 5000): Promise<SideStatementTiming[]> {
  if (file === ':memory:' || file.startsWith('file:')) throw new Error('runOffThread needs a SQLite file another connection can open');
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, statements, busyMs, module: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    let answered = false;
    worker.once('message', (m: { ok: boolean; timings: SideStatementTiming[]; sql?: string; error?: string }) => {
      answered = true;
      if (m.ok) resolve(m.timings);
      else reject(new AppError(503, 'maintenance_failed', `${m.error} (while running: ${m.sql}); statements done before it: ${m.timings.length}`));
    });
    worker.once('error', (e) => {
      answered = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`maintenance thread exited with code ${code}`));
    });
  });
}
