import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CompiledQuery } from 'kysely';
import { WAL_BACKLOG_SOURCE, WAL_SHRINK_SOURCE } from './wal-checkpoint.js';
import { SQLITE_WAL_LIMIT_BYTES } from './store.js';
import type { Store } from './store.js';

/**
 * Runs a step once per row an earlier step returned, parameter `param` set to `row[col]` (e.g.
 * deleting FTS5 rows one rowid at a time: a rowid range scan of an FTS5 table costs ~3× more).
 */
export interface StepEach {
  step: number;
  col: string;
  param: number;
}

/** One statement of a write transaction: compiled by Kysely, run by a SqlWriter. */
export interface WriteStep {
  sql: string;
  parameters: readonly unknown[];
  each?: StepEach;
}

export type Row = Record<string, unknown>;

/** A compiled Kysely query as a step. */
export function step(q: CompiledQuery | { compile(): CompiledQuery }, each?: StepEach): WriteStep {
  const c = 'sql' in q ? q : q.compile();
  return each ? { sql: c.sql, parameters: c.parameters, each } : { sql: c.sql, parameters: c.parameters };
}

export interface RunOptions {
  /**
   * Ahead of transactions given without it that still wait (events: a publish is waited on by
   * its consumers; a result round can take a few ms).
   */
  first?: boolean;
  /**
   * Posted to the thread at once, even while another message is with it, instead of waiting on
   * this thread for the next message (the gateway's analytics rows: under load, rows that waited
   * here lived long enough to be promoted to V8's old generation). The thread still commits it
   * together with whatever else waits for it.
   */
  now?: boolean;
}

/**
 * Where the store's writes that should stay off the event loop run (the sidecar's, the gateway's
 * analytics rows): each call is one transaction of steps (queries compiled by Kysely), resolved
 * with the rows each step returned once committed, or rejected with nothing of it committed.
 */
export interface SqlWriter {
  readonly kind: 'thread' | 'store';
  run(steps: readonly WriteStep[], opts?: RunOptions): Promise<Row[][]>;
  /** Starts what the first write needs (the thread), ahead of it. */
  warm(): void;
  /** Finishes the transactions already given, then refuses new ones. */
  close(): Promise<void>;
}

/** Transactions through the store's own Kysely connection (PostgreSQL; SQLite in memory). */
export class StoreWriter implements SqlWriter {
  readonly kind = 'store' as const;
  private closed = false;
  constructor(private readonly store: Store) {}

  async run(steps: readonly WriteStep[], _opts?: RunOptions): Promise<Row[][]> {
    if (this.closed) throw new Error('store writer is closed');
    return this.store.db.transaction().execute(async (trx) => {
      const out: Row[][] = [];
      for (const s of steps) {
        if (!s.each) {
          out.push((await trx.executeQuery<Row>(CompiledQuery.raw(s.sql, s.parameters as unknown[]))).rows as Row[]);
          continue;
        }
        for (const row of out[s.each.step] ?? []) {
          const p = [...s.parameters];
          p[s.each.param] = row[s.each.col];
          await trx.executeQuery(CompiledQuery.raw(s.sql, p));
        }
        out.push([]);
      }
      return out;
    });
  }

  warm(): void {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * The write thread's code (CommonJS, eval'd: the daemon ships as a bundle, so no worker file sits
 * beside it). It opens its own connection to the store's SQLite file (WAL, as the store's) and
 * runs each message as one `BEGIN IMMEDIATE` transaction, in the order they arrive, with each
 * of the message's transactions a savepoint in it.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
// Statement and savepoint journals in memory: each transaction of a message is a savepoint, and
// with temp files SQLite wrote every statement's journal to one (an event insert: 17 KB of writes
// beside 3.6 KB of WAL, at 16 events per commit). They are a few pages each, freed at its end.
db.pragma('temp_store = MEMORY');
// the store's page cache size (better-sqlite3's own default is 16 MB: in cco proxy that was
// 16 MB more resident memory, for appends that touch a few pages at the end of each b-tree)
if (workerData.cacheKib) db.pragma('cache_size = -' + workerData.cacheKib);
// the commit that restarts the WAL truncates it to the store's limit (SQLITE_WAL_LIMIT_BYTES)
db.pragma('journal_size_limit = ' + workerData.walLimit);
// This connection checkpoints the WAL for the store's (which stops doing it while this thread
// runs, so that no commit on the event loop copies pages): once its commits leave 1,000 pages
// not yet copied (SQLite's default), and every second for what the store's connection wrote
// meanwhile (PASSIVE: waits for nobody; a no-op when nothing is new).
// Not SQLite's automatic checkpoint: that runs inside COMMIT, so the round whose commit crossed
// the mark waited for the copying and fsyncs (~2–20 ms) before its answer. Here the answer goes
// first; the checkpoint runs before the next message. The backlog is read from the wal-index
// header in the -shm file (sqlite.org/walformat.html: mxFrame at byte 16, nBackfill at 96, in
// native byte order), through the store's descriptor (workerData.shmFd): this thread never opens
// or closes one of its own, since closing any descriptor of that file drops every POSIX lock the
// process holds on it, the store connection's too, and another process could then take the WAL
// index for unused and reset it under the live connections. Without it, SQLite's automatic
// checkpoints as before.
const CHECKPOINT_PAGES = 1000;
const shm = typeof workerData.shmFd === 'number' ? workerData.shmFd : -1;
if (shm >= 0) db.pragma('wal_autocheckpoint = 0');
${WAL_BACKLOG_SOURCE}
${WAL_SHRINK_SOURCE}
function checkpointIfDue() {
  if (shm < 0) return;
  try {
    if (walBacklog(shm) >= CHECKPOINT_PAGES) db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or failed: the next round tries again
  }
}
const checkpoints = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    // a WAL a burst grew past the limit, all copied now: back to the disk (walShrink)
    walShrink(db, shm, workerData.file + '-wal', workerData.walLimit);
  } catch {
    // busy or failed: the next one tries again
  }
}, workerData.checkpointMs);
// statements by id: each SQL text crosses the thread boundary once, later steps name its id
const statements = new Map();
const tx = db.transaction((steps) => {
  const out = [];
  for (const s of steps) {
    const st = s.sql !== undefined ? db.prepare(s.sql) : statements.get(s.id);
    if (!st) throw new Error('write step: unknown statement ' + s.id);
    const p = s.parameters;
    if (s.each) {
      const q = p.slice();
      for (const row of out[s.each.step] || []) {
        q[s.each.param] = row[s.each.col];
        st.run(q);
      }
      out.push([]);
    } else if (st.reader) out.push(st.all(p));
    else {
      st.run(p);
      out.push([]);
    }
  }
  return out;
});
function fail(e) {
  return { message: String((e && e.message) || e), code: e && e.code };
}
// Group commit: the message's transactions are savepoints of one transaction (tx nested in
// group), each rolled back alone when one of its steps fails, committed together. One commit
// writes each page the message touched once to the WAL: events and result rows given together
// share their table and index pages (one transaction each wrote ~4 pages per event).
const group = db.transaction((txs) =>
  txs.map((t) => {
    try {
      if (t.defError) throw t.defError;
      return { id: t.id, rows: tx(t.steps) };
    } catch (e) {
      // an error that ended the whole transaction (I/O, full disk): the message fails as one
      if (!db.inTransaction) throw e;
      return { id: t.id, error: fail(e) };
    }
  }),
);
// The statements a message's transactions define, prepared before its transaction begins (and
// whether or not it commits): a statement prepared inside a transaction whose BEGIN failed (the
// write lock busy past the timeout) would be missing for every later use of its id. Answered as
// defined, so that the main thread stops sending its text; one that does not prepare fails its
// transaction alone. A definition sent again (ahead of its confirmation) is not prepared twice.
function define(txs) {
  const defined = [];
  for (const t of txs) {
    if (!t.defs) continue;
    for (const [id, sql] of t.defs) {
      if (statements.has(id)) continue;
      try {
        statements.set(id, db.prepare(sql));
        defined.push(id);
      } catch (e) {
        t.defError = e;
      }
    }
  }
  return defined;
}
function control(m) {
  if (m.op === 'close') {
    clearInterval(checkpoints);
    db.close();
    parentPort.postMessage({ seqs: [], results: [{ id: m.id, rows: [] }] });
    return;
  }
  if (m.op === 'crash') throw new Error('crash requested');
}
// Messages already waiting on the port join the commit (the main thread posts the gateway's
// analytics rows as they come, without waiting for the last answer): up to this many messages in
// one commit, about 512 analytics rows (~5 ms), the size where a row costs least (8.5 µs against
// 11.5 in 64-row transactions), and what a sidecar write merged with them may wait.
const GROUP_MESSAGES = 8;
parentPort.on('message', (first) => {
  let m = first;
  while (m !== undefined) {
    if (m.op !== 'txs') return control(m);
    const seqs = [m.seq];
    let txs = m.txs;
    let after;
    for (let more = 1; more < GROUP_MESSAGES; more++) {
      const next = receiveMessageOnPort(parentPort);
      if (next === undefined) break;
      if (next.message.op !== 'txs') {
        // a close (or crash) waits for the commit of what came before it
        after = next.message;
        break;
      }
      seqs.push(next.message.seq);
      txs = txs.concat(next.message.txs);
    }
    const defined = define(txs);
    let results;
    try {
      results = group.immediate(txs);
    } catch (e) {
      // the commit itself failed: nothing of the group is committed
      const error = fail(e);
      results = txs.map((t) => ({ id: t.id, error }));
    }
    parentPort.postMessage(defined.length ? { seqs, results, defined } : { seqs, results });
    checkpointIfDue();
    m = after;
  }
});
`;

interface Pending {
  resolve(rows: Row[][]): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /**
   * Statement ids by SQL text, and whether the thread has answered that it prepared each: until
   * then every transaction that uses one carries its text too (one posted at once, or moved
   * ahead of the queue, can reach the thread before the first that carried it).
   */
  statements: Map<string, { id: number; prepared: boolean }>;
  /** The SQL text of each id (for the thread's `defined` answers). */
  texts: Map<number, string>;
  /** Transactions waiting for the message in flight to be answered. */
  queue: PostedTx[];
  /** Whether a message of the queue is with the thread (`run`'s `now` messages do not count). */
  busy: boolean;
  /** The sequence number of that message. */
  busySeq: number;
  /** Called once nothing is queued or with the thread. */
  idle: (() => void)[];
  /** Whether the thread has answered a message (one that dies before that could not start). */
  answered: boolean;
}

interface PostedTx {
  id: number;
  steps: readonly PostedStep[];
  defs?: [number, string][];
  first?: boolean;
}

/** A step as posted to the thread: its statement's id instead of the SQL text (or the text). */
type PostedStep = ({ id: number } | { sql: string }) & { parameters: readonly unknown[]; each?: StepEach };

/** How long the thread's `BEGIN IMMEDIATE` waits for the write lock (another process's, a re-index) before the message fails. */
const BUSY_TIMEOUT_MS = 5000;

/** Statements a thread keeps prepared at most. */
const MAX_STATEMENTS = 256;

/**
 * SQLite transactions on a worker thread with a connection of its own, so that statements,
 * FTS5 indexing and commits never hold up the event loop (the main thread only posts the
 * compiled steps). WAL lets the store's connection keep reading meanwhile and see each commit as
 * soon as it resolves here. A thread that dies fails its pending transactions (none of them was
 * acknowledged; the message in flight may have committed before the thread died, so a caller
 * must not take a failure for "nothing written": see `EventsRepo.commit`) and is replaced on the
 * next write.
 *
 * One message is with the thread at a time: transactions given meanwhile go together in the
 * next one, so that under load a post and its answer serve many callers (posting costs the
 * event loop more than a small transaction would), and one commit serves them all (group
 * commit). Each transaction is still all or nothing on its own: a savepoint, rolled back alone
 * when one of its steps fails; none is answered before the message's commit.
 */
export class ThreadSqliteWriter implements SqlWriter {
  readonly kind = 'thread' as const;
  private slot: Slot | undefined;
  private nextId = 1;
  private nextSeq = 1;
  private closed = false;
  private readonly module: string;
  /** Gives the WAL checkpoints back to the store's connection (while a thread runs, it does them). */
  private giveBackCheckpoints: (() => void) | undefined;
  /**
   * After a thread died before answering anything (it could not open the file: a folder removed,
   * permissions): no new thread before `until`, writes fail at once with `error`. Doubling from
   * 250 ms to 30 s: otherwise every write started a thread of its own.
   */
  private down: { until: number; error: Error; backoffMs: number } | undefined;

  constructor(
    private readonly file: string,
    private readonly opts: { store?: Store; checkpointMs?: number; busyTimeoutMs?: number } = {},
  ) {
    this.module = createRequire(import.meta.url).resolve('better-sqlite3');
  }

  run(steps: readonly WriteStep[], opts: RunOptions = {}): Promise<Row[][]> {
    if (this.closed) return Promise.reject(new Error('store writer is closed'));
    if (this.down && Date.now() < this.down.until) return Promise.reject(this.down.error);
    const slot = this.thread();
    let defs: [number, string][] | undefined;
    const posted: PostedStep[] = steps.map((s) => {
      let known = slot.statements.get(s.sql);
      if (known === undefined) {
        // the statements are a handful (the sidecar's, the analytics inserts); should texts keep coming, they go inline
        if (slot.statements.size >= MAX_STATEMENTS) return s;
        known = { id: slot.statements.size + 1, prepared: false };
        slot.statements.set(s.sql, known);
        slot.texts.set(known.id, s.sql);
      }
      const id = known.id;
      if (!known.prepared && !defs?.some(([d]) => d === id)) (defs ??= []).push([id, s.sql]);
      return s.each ? { id, parameters: s.parameters, each: s.each } : { id, parameters: s.parameters };
    });
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const tx: PostedTx = defs ? { id, steps: posted, defs } : { id, steps: posted };
      if (opts.now) {
        // posted at once, whatever is with the thread: nothing waits on this thread's heap
        slot.worker.ref();
        slot.worker.postMessage({ op: 'txs', seq: this.nextSeq++, txs: [tx] });
        return;
      }
      if (opts.first) {
        tx.first = true;
        const at = slot.queue.findIndex((t) => !t.first);
        if (at < 0) slot.queue.push(tx);
        else slot.queue.splice(at, 0, tx);
      } else slot.queue.push(tx);
      if (!slot.busy) this.post(slot);
    });
  }

  warm(): void {
    // not while a thread that could not start waits out its backoff (an agent's first request warms)
    if (!this.closed && !(this.down && Date.now() < this.down.until)) this.thread();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slot = this.slot;
    if (!slot) return;
    // every transaction already given is answered first
    if (slot.busy || slot.queue.length) await new Promise<void>((resolve) => slot.idle.push(resolve));
    if (this.slot === slot) {
      const id = this.nextId++;
      await new Promise((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.ref();
        slot.worker.postMessage({ op: 'close', id });
      }).catch(() => undefined);
    }
    this.slot = undefined;
    await slot.worker.terminate();
    this.checkpointsBack();
  }

  private checkpointsBack(): void {
    this.giveBackCheckpoints?.();
    this.giveBackCheckpoints = undefined;
  }

  /** Tests: makes the thread throw, as a crash would. */
  crashForTest(): void {
    this.slot?.worker.postMessage({ op: 'crash', id: 0 });
  }

  private thread(): Slot {
    if (this.slot) return this.slot;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, module: this.module, checkpointMs: this.opts.checkpointMs ?? 1000, walLimit: this.opts.store?.walLimitBytes ?? SQLITE_WAL_LIMIT_BYTES, cacheKib: this.opts.store?.cacheKib, shmFd: this.opts.store?.shmFd?.(), busyTimeoutMs: this.opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS },
      // What it allocates (each message's steps, as cloned) dies at once: a small young
      // generation is enough (its heap stayed at 6 MB under the gateway's saturation load). The
      // old generation keeps V8's default bound: a message can carry results of many MB.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.giveBackCheckpoints ??= this.opts.store?.delegateCheckpoints?.();
    const slot: Slot = { worker, pending: new Map(), statements: new Map(), texts: new Map(), queue: [], busy: false, busySeq: -1, idle: [], answered: false };
    this.slot = slot;
    worker.unref();
    worker.on('message', (m: { seqs: number[]; results: { id: number; rows?: Row[][]; error?: { message: string; code?: string } }[]; defined?: number[] }) => {
      if (!slot.answered) {
        slot.answered = true;
        this.down = undefined;
      }
      for (const id of m.defined ?? []) {
        const known = slot.statements.get(slot.texts.get(id) as string);
        if (known) known.prepared = true;
      }
      if (slot.busy && m.seqs.includes(slot.busySeq)) slot.busy = false;
      for (const r of m.results) {
        const p = slot.pending.get(r.id);
        if (!p) continue;
        slot.pending.delete(r.id);
        if (r.error) p.reject(Object.assign(new Error(r.error.message), r.error.code ? { code: r.error.code } : {}));
        else p.resolve(r.rows ?? []);
      }
      if (slot.busy) return;
      if (slot.queue.length) this.post(slot);
      else {
        if (slot.pending.size === 0) worker.unref();
        for (const f of slot.idle.splice(0)) f();
      }
    });
    const fail = (died: Error): void => {
      let e = died;
      if (this.slot === slot) {
        this.slot = undefined;
        // until a next thread starts, the store's connection checkpoints again
        this.checkpointsBack();
        if (!slot.answered) {
          const backoffMs = Math.min(30_000, Math.max(250, (this.down?.backoffMs ?? 0) * 2));
          e = new Error(`${died.message}; a new one starts in ${backoffMs / 1000} s`);
          this.down = { until: Date.now() + backoffMs, backoffMs, error: e };
        }
      }
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      slot.queue = [];
      slot.busy = false;
      for (const f of slot.idle.splice(0)) f();
    };
    worker.on('error', (e) => fail(new Error(`store writer thread failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`store writer thread exited with code ${code}`)));
    return slot;
  }

  private post(slot: Slot): void {
    const txs = slot.queue;
    slot.queue = [];
    slot.busy = true;
    slot.busySeq = this.nextSeq++;
    // a transaction in flight keeps the process alive until it is committed
    slot.worker.ref();
    slot.worker.postMessage({ op: 'txs', seq: slot.busySeq, txs });
  }
}

/** The writer for a store: a thread of its own for a SQLite file, the store's connection otherwise. */
export function sqlWriterFor(store: Store): SqlWriter {
  return store.dialect === 'sqlite' && store.location !== ':memory:' && !store.location.startsWith('file:') ? new ThreadSqliteWriter(store.location, { store }) : new StoreWriter(store);
}
