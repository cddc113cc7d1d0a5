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

const READER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: workerData.busyMs });
const statements = new Map();
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    let stmt = statements.get(m.sql);
    if (!stmt) {
      stmt = db.prepare(m.sql);
      if (!stmt.reader) throw new Error('not a read: ' + m.sql);
      if (statements.size >= 64) statements.delete(statements.keys().next().value);
      statements.set(m.sql, stmt);
    }
    parentPort.postMessage({ id: m.id, ok: true, rows: stmt.all(m.parameters) });
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(e && e.message || e), code: e && e.code });
  }
});
`;

/** Whether `file` is a SQLite file another connection can open (not `:memory:`, not a `file:` URI). */
export function sideReadable(file: string): boolean {
  return file !== ':memory:' && !file.startsWith('file:');
}

/**
 * A read-only connection to a SQLite file on a thread of its own, for reads that take long on a
 * large table (the dashboard's analytics): on the store's connection better-sqlite3 would hold
 * the event loop, and every request of the process, while they run (WAL: this connection reads
 * the last commit without taking a lock from the writers).
 *
 * The thread starts on the first query and ends after `idleMs` without one; idle, it does not
 * keep the process alive. Queries run one after another, in the order they were sent.
 */
export class SideReader {
  private worker: Worker | undefined;
  private next = 0;
  private readonly pending = new Map<number, { resolve(rows: unknown[]): void; reject(e: Error): void }>();
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly opts: { idleMs?: number; busyMs?: number } = {},
  ) {
    if (!sideReadable(file)) throw new Error('SideReader needs a SQLite file another connection can open');
  }

  /** The rows of one compiled read (Kysely's `compile()`), as the store's connection would return them. */
  all<R>(q: { sql: string; parameters: readonly unknown[] }): Promise<R[]> {
    const w = this.start();
    clearTimeout(this.idle);
    const id = this.next++;
    // a query waiting for its answer keeps the process alive, an idle thread does not
    if (this.pending.size === 0) w.ref();
    return new Promise<R[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      w.postMessage({ id, sql: q.sql, parameters: q.parameters });
    });
  }

  /** Ends the thread (a later query starts another). */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    this.fail(new Error('side reader closed'));
    await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(READER_SOURCE, {
      eval: true,
      workerData: { file: this.file, busyMs: this.opts.busyMs ?? 5000, module: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    w.on('message', (m: { id: number; ok: boolean; rows?: unknown[]; error?: string; code?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.rows ?? []);
      else p.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
      if (this.pending.size === 0 && this.worker === w) {
        w.unref();
        clearTimeout(this.idle);
        this.idle = setTimeout(() => {
          if (this.worker !== w || this.pending.size) return;
          this.worker = undefined;
          w.postMessage('close');
        }, this.opts.idleMs ?? 60_000);
        this.idle.unref();
      }
    });
    const gone = (e: Error): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.fail(e);
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`side reader thread exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  private fail(e: Error): void {
    const ps = [...this.pending.values()];
    this.pending.clear();
    for (const p of ps) p.reject(e);
  }
}
