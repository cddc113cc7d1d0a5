import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SQLITE_WAL_LIMIT_BYTES } from './store.js';
import type { Store } from './store.js';

/**
 * WAL pages a SQLite file's WAL holds that no checkpoint has copied yet, read from the wal-index
 * header in its `-shm` file (sqlite.org/walformat.html: mxFrame at byte 16, nBackfill at 96, in
 * native byte order). CommonJS source, shared by the worker threads that checkpoint
 * (`walBacklog(fd)` with the `-shm` file open for reading).
 */
export const WAL_BACKLOG_SOURCE = `
const walWord = Buffer.alloc(4);
const walLittleEndian = require('node:os').endianness() === 'LE';
function walHeader(fd, at) {
  require('node:fs').readSync(fd, walWord, 0, 4, at);
  return walLittleEndian ? walWord.readUInt32LE(0) : walWord.readUInt32BE(0);
}
function walBacklog(fd) {
  return walHeader(fd, 16) - walHeader(fd, 96);
}
`;

/**
 * Gives the disk back after a burst (CommonJS source beside `WAL_BACKLOG_SOURCE`, for the threads'
 * periodic checkpoint). The WAL restarts from its start only when a write begins with every page
 * copied; under a burst that never happens, so the file grows (545 MB seen), and
 * `journal_size_limit` cuts it back only at the first commit after a restart, which an idle daemon
 * never makes. So once all is copied (backlog 0) and the file is past the limit: one
 * `wal_checkpoint(TRUNCATE)`, without a busy handler so that it never holds the write lock waiting
 * for a reader (busy: the next round tries again). Never otherwise: RESTART checkpoints under
 * steady writes cost the sidecar's tail latency.
 */
export const WAL_SHRINK_SOURCE = `
function walShrink(db, fd, walFile, limit) {
  if (fd < 0 || walBacklog(fd) !== 0) return;
  let size = 0;
  try {
    size = require('node:fs').statSync(walFile).size;
  } catch {
    return;
  }
  if (size <= limit) return;
  const timeout = db.pragma('busy_timeout', { simple: true });
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.pragma('busy_timeout = ' + timeout);
  }
}
`;

/** The same reading on this thread (tests, diagnostics): pages not yet checkpointed, or undefined without a `-shm` file. */
export function walBacklog(file: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(`${file}-shm`, 'r');
  } catch {
    return undefined;
  }
  try {
    const b = Buffer.alloc(100);
    readSync(fd, b, 0, 100, 0);
    const read = (at: number) => (endianness() === 'LE' ? b.readUInt32LE(at) : b.readUInt32BE(at));
    return read(16) - read(96);
  } finally {
    closeSync(fd);
  }
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
${WAL_BACKLOG_SOURCE}
${WAL_SHRINK_SOURCE}
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: 5000 });
// it only copies WAL frames into the database file: no page cache worth keeping
db.pragma('cache_size = -256');
db.pragma('wal_autocheckpoint = 0');
db.pragma('journal_size_limit = ' + workerData.walLimit);
let shm = -1;
try {
  shm = fs.openSync(workerData.file + '-shm', 'r');
} catch {
  shm = -1;
}
function checkpoint(force) {
  try {
    if (force || shm < 0 || walBacklog(shm) >= workerData.pages) db.pragma('wal_checkpoint(PASSIVE)');
    if (force) walShrink(db, shm, workerData.file + '-wal', workerData.walLimit);
  } catch {
    // busy or failed: the next tick tries again
  }
}
let ticks = 0;
const timer = setInterval(() => {
  ticks++;
  checkpoint(ticks % workerData.everyTicks === 0);
}, workerData.tickMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  checkpoint(true);
  if (shm >= 0) fs.closeSync(shm);
  db.close();
  parentPort.postMessage('closed');
});
`;

export interface CheckpointThreadOptions {
  /** How often the backlog is looked at (ms). */
  tickMs?: number;
  /** Checkpoint as soon as this many pages wait (SQLite's automatic checkpoint: 1,000). */
  pages?: number;
  /** Checkpoint whatever waits at least this often (ms). */
  maxDelayMs?: number;
  /**
   * Started on demand (`touch`): stop after this long without a touch (ms). The daemon's gateway
   * touches it on each analytics write, so an idle daemon carries no thread (~8 MB).
   */
  idleStopMs?: number;
}

/**
 * WAL checkpoints of a SQLite file store on a thread of their own.
 *
 * Why: SQLite's automatic checkpoint runs inside the `COMMIT` that crosses 1,000 WAL pages, on the
 * connection that commits; for the standalone gateway that is the event loop, writing analytics
 * rows. Each checkpoint copies the pages and fsyncs the WAL and the database: measured at 1,000
 * streamed requests a second, one every ~1.5–3 s, each stalling the event loop 15–18 ms, and the
 * requests arriving meanwhile made the (b) p99 (docs/benchmarks/gateway.md, ninth session). Here
 * the store's connection stops checkpointing (`Store.delegateCheckpoints`) and this thread's own
 * connection checkpoints (PASSIVE: it never waits for the writer, nor the writer for it) once
 * `pages` wait, and at least every `maxDelayMs`; then also cuts a WAL a burst grew past the store's
 * limit back (`WAL_SHRINK_SOURCE`). The thread holds no data and no work queue: a
 * V8 isolate with a small heap and a SQLite connection with a 256 KB page cache.
 *
 * The sidecar's write thread (`sidecar/sql-writer.ts`) does the same for the daemon's store while
 * it runs; both can run (the store counts its delegates). `cco proxy` runs this thread from start to
 * end; the daemon starts it when its gateway writes analytics (`touch`) and stops it when the
 * gateway has been idle for `idleStopMs`.
 */
export class CheckpointThread {
  private worker: Worker | undefined;
  private giveBack: (() => void) | undefined;
  private lastTouch = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: CheckpointThreadOptions = {},
  ) {}

  /** Starts the thread (a no-op for stores other than a SQLite file). */
  start(): void {
    if (this.worker || !this.store.delegateCheckpoints || this.store.dialect !== 'sqlite') return;
    const file = this.store.location;
    if (file === ':memory:' || file.startsWith('file:')) return;
    const tickMs = this.opts.tickMs ?? 100;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, module: createRequire(import.meta.url).resolve('better-sqlite3'), tickMs, pages: this.opts.pages ?? 1000, walLimit: this.store.walLimitBytes ?? SQLITE_WAL_LIMIT_BYTES, everyTicks: Math.max(1, Math.round((this.opts.maxDelayMs ?? 1000) / tickMs)) },
      resourceLimits: { maxOldGenerationSizeMb: 6, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 },
    });
    worker.unref();
    this.worker = worker;
    this.giveBack = this.store.delegateCheckpoints();
    const lost = () => {
      // a thread that died hands checkpoints back to the store's own connection
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.giveBack?.();
      this.giveBack = undefined;
    };
    worker.on('error', lost);
    worker.on('exit', lost);
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Starts the thread if it is not running (on demand: see `idleStopMs`) and notes the activity. */
  touch(): void {
    this.lastTouch = Date.now();
    if (this.worker || this.stopping) return;
    this.start();
    const idle = this.opts.idleStopMs;
    if (idle === undefined || !this.worker) return;
    this.idleTimer ??= setInterval(
      () => {
        if (Date.now() - this.lastTouch < idle) return;
        clearInterval(this.idleTimer);
        this.idleTimer = undefined;
        this.stopping = this.stop().finally(() => (this.stopping = undefined));
      },
      Math.max(10, Math.round(idle / 4)),
    );
    this.idleTimer.unref();
  }

  /** Checkpoints what waits, stops the thread, and gives checkpoints back to the store's connection. */
  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    const worker = this.worker;
    if (!worker) return this.stopping;
    this.worker = undefined;
    worker.ref();
    await new Promise<void>((done) => {
      const t = setTimeout(done, 5000);
      worker.once('message', () => {
        clearTimeout(t);
        done();
      });
      worker.once('exit', () => {
        clearTimeout(t);
        done();
      });
      worker.postMessage('close');
    });
    await worker.terminate();
    this.giveBack?.();
    this.giveBack = undefined;
  }
}
