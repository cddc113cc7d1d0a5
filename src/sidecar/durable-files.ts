import { readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { uptime } from 'node:os';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from '../core/atomic-file.js';
import { isAlive } from '../core/process-alive.js';

export interface FileWrite {
  file: string;
  /** The file's new content; null removes the file (journalled like a write). */
  data: string | null;
}

/**
 * The file threads' code (CommonJS, eval'd: the daemon ships as a bundle, so no worker file
 * sits beside it). See `ResultFiles` for the scheme.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const C = fs.constants;
const SPARE_FLAGS = C.O_RDWR | C.O_CREAT | C.O_NOFOLLOW;

function openSpare(dir, spare, mode) {
  try {
    return fs.openSync(spare, SPARE_FLAGS, mode);
  } catch (e) {
    if (e.code === 'ENOENT') {
      fs.mkdirSync(dir, { recursive: true });
      return fs.openSync(spare, SPARE_FLAGS, mode);
    }
    if (e.code === 'ELOOP') {
      // a symlink where the spare should be: never write through it
      fs.unlinkSync(spare);
      return fs.openSync(spare, SPARE_FLAGS | C.O_EXCL, mode);
    }
    throw e;
  }
}

function fsyncPath(p) {
  let fd;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // gone since, or a filesystem that cannot fsync a folder
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// Writes the file's new content into its spare inode and swaps it in (see ResultFiles).
function writeOne(file, data, mode, durable) {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const spare = path.join(dir, '.' + base + '.spare');
  const old = path.join(dir, '.' + base + '.old');
  const buf = Buffer.from(data);
  const fd = openSpare(dir, spare, mode);
  try {
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off, off);
    fs.ftruncateSync(fd, buf.length);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  let kept = true;
  try {
    fs.linkSync(file, old);
  } catch (e) {
    if (e.code === 'EEXIST') {
      fs.unlinkSync(old);
      fs.linkSync(file, old);
    } else if (e.code === 'ENOENT') kept = false;
    else throw e;
  }
  fs.renameSync(spare, file);
  if (kept) {
    try {
      fs.renameSync(old, spare);
    } catch {
      // the next write creates a new spare
    }
  }
}

function removeOne(file) {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
}

let journal = { path: '', fd: -1 };

function journalFd(p, mode) {
  if (journal.path === p) return journal.fd;
  if (journal.fd >= 0) fs.closeSync(journal.fd);
  journal = { path: '', fd: -1 };
  const dir = path.dirname(p);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = fs.openSync(p, C.O_WRONLY | C.O_CREAT | C.O_APPEND, mode);
  // the new journal's name must survive a power loss too
  fsyncPath(dir);
  journal = { path: p, fd };
  return fd;
}

function frame(it) {
  const payload = Buffer.from(JSON.stringify({ f: it.file, d: it.data }));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(zlib.crc32(payload) >>> 0, 4);
  return [head, payload];
}

function batch(m) {
  // write-ahead: the batch is in the journal, on disk, before any file changes
  try {
    const fd = journalFd(m.journal, m.mode);
    const buf = Buffer.concat(m.items.flatMap(frame));
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fdatasyncSync(fd);
  } catch (e) {
    const err = { message: 'result journal: ' + String(e && e.message || e), code: e && e.code };
    return m.items.map(() => err);
  }
  return m.items.map((it) => {
    try {
      if (it.data === null) removeOne(it.file);
      else writeOne(it.file, it.data, m.mode, false);
      return null;
    } catch (e) {
      return { message: String(e && e.message || e), code: e && e.code };
    }
  });
}

// Makes the files a journal covers durable (their current content), then drops the journal.
function checkpoint(m) {
  const dirs = new Set();
  for (const f of m.files) {
    fsyncPath(f);
    dirs.add(path.dirname(f));
  }
  for (const d of dirs) fsyncPath(d);
  try {
    fs.unlinkSync(m.journal);
  } catch {
    // already gone
  }
  return [];
}

parentPort.on('message', (m) => {
  const errors = m.op === 'batch' ? batch(m) : checkpoint(m);
  parentPort.postMessage({ id: m.id, errors });
});
`;

interface Pending {
  resolve(errors: (Error | undefined)[]): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

type Message = { op: 'batch'; journal: string; items: FileWrite[] } | { op: 'checkpoint'; journal: string; files: string[] };

/** A file a journal says was written (data null: removed), as recovery found it. */
export interface JournalEntry {
  file: string;
  data: string | null;
}

/**
 * Result files, written atomically and durably in batches with one fsync per batch.
 *
 * Write-ahead journal (group commit): a batch's contents are appended to the current journal
 * (`<root>/.journal/<pid>-<n>.log`, length + CRC framed) and fdatasync'ed once; only then is
 * each file replaced atomically. So an acknowledged result is on disk (in the journal) even
 * before its file's own data reaches the disk. Every few seconds (or MBs) the journal rotates:
 * a second thread fsyncs the files the old journal covered — each distinct file once, however
 * often it was rewritten — and their folders, then deletes it. After a crash, `recover()`
 * replays what journals are left.
 *
 * Atomic replace without a new inode per write: the new content goes into the file's spare
 * inode `.<name>.spare`; the current file is hard-linked as `.<name>.old`, the spare renamed over
 * the file (atomic), and `.old` renamed back to `.spare`, so the replaced inode is the next
 * spare. Readers see the old content or the new, never a torn file. (Creating a file costs
 * ~0.6 ms of kernel CPU on this machine's ext4, three times the rest of a write. A reader that
 * keeps the replaced file open across the *next* write of the same path sees that write's bytes;
 * readers that open, read and close see whole files.)
 */
export class ResultFiles {
  private writer: Slot | undefined;
  private syncer: Slot | undefined;
  private nextId = 1;
  private seq = 0;
  /**
   * Part of this instance's journal names: a pid comes back (PID 1 in every container start), and
   * a journal a failed recovery left under the same name would be appended to and then deleted
   * by this run's checkpoint, with the entries it still had to replay.
   */
  private readonly run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  private journalBytes = 0;
  private journalSince = 0;
  private dirty = new Set<string>();
  private readonly checkpoints = new Set<Promise<unknown>>();
  private rotateTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private closed = false;
  readonly journalDir: string;

  constructor(
    root: string,
    /** `maxItemBytes`: the largest file text given (sizes the file threads' heap; default 1 MB). */
    private readonly opts: { rotateBytes?: number; rotateMs?: number; idleMs?: number; mode?: number; maxItemBytes?: number } = {},
  ) {
    this.journalDir = join(root, '.journal');
  }

  /** Starts the threads ahead of the first write (so the first results do not wait for them). */
  warm(): void {
    this.threads();
    this.armIdle();
  }

  /**
   * Writes every file (distinct within a call): durable once this resolves. One entry per file:
   * `undefined` when written, the error otherwise.
   */
  async write(items: readonly FileWrite[]): Promise<(Error | undefined)[]> {
    if (items.length === 0) return [];
    const { writer } = this.threads();
    if (this.journalBytes >= (this.opts.rotateBytes ?? 8 * 1024 * 1024)) this.rotate();
    if (this.journalBytes === 0) this.journalSince = Date.now();
    const journal = this.journalPath(this.seq);
    this.inflight++;
    try {
      const errors = await this.send(writer, { op: 'batch', journal, items: [...items] });
      if (errors.some((e) => e?.message.startsWith('result journal:'))) {
        // A failed append (a full disk) may have left part of a frame, and recovery stops at a
        // torn frame: every later frame of that journal would be lost to it. Later rounds go to
        // a new journal.
        if (this.journalBytes > 0) this.rotate();
        else this.seq++;
      }
      items.forEach((it, i) => {
        if (errors[i]) return;
        this.dirty.add(it.file);
        this.journalBytes += (it.data?.length ?? 0) + it.file.length + 24;
      });
      return errors;
    } finally {
      this.inflight--;
      this.armRotate();
      this.armIdle();
    }
  }

  /**
   * Journals left by a process that is gone (a crash): the newest content per file, in write
   * order. Call `finishRecovery` once the caller has settled them.
   */
  pendingJournals(): { journals: string[]; entries: JournalEntry[] } {
    let names: string[];
    try {
      // <pid>-<run>-<seq>.log (and <pid>-<seq>.log, as written before the run part)
      names = readdirSync(this.journalDir).filter((n) => /^\d+-(?:[a-z0-9]+-)?\d+\.log$/.test(n));
    } catch {
      return { journals: [], entries: [] };
    }
    // A journal is ours to replay when its writer is gone: this process, a dead pid, or one
    // written before the machine booted (its pid may belong to an unrelated process now).
    const bootedAt = Date.now() - uptime() * 1000;
    const order = names
      .map((n) => ({ n, pid: Number(n.split('-')[0]), seq: Number(n.slice(n.lastIndexOf('-') + 1, -4)), mtime: statSync(join(this.journalDir, n)).mtimeMs }))
      .filter((j) => j.pid === process.pid || j.mtime < bootedAt || !isAlive(j.pid))
      .sort((a, b) => a.mtime - b.mtime || a.pid - b.pid || a.seq - b.seq);
    const latest = new Map<string, string | null>();
    for (const j of order) for (const e of readJournal(join(this.journalDir, j.n))) latest.set(e.file, e.data);
    return { journals: order.map((j) => join(this.journalDir, j.n)), entries: [...latest].map(([file, data]) => ({ file, data })) };
  }

  /**
   * Writes recovered files durably and deletes the journals. Runs at start, before any request,
   * so plain synchronous atomic writes on this thread are fine.
   */
  async finishRecovery(journals: string[], items: readonly FileWrite[]): Promise<void> {
    for (const it of items) {
      if (it.data !== null) writeFileAtomic(it.file, it.data, this.opts.mode ?? 0o600);
      else {
        try {
          unlinkSync(it.file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    }
    for (const j of journals) {
      try {
        unlinkSync(j);
      } catch {
        // already gone
      }
    }
  }

  /** Checkpoints the current journal and stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.writer && this.journalBytes > 0) this.rotate();
    await Promise.allSettled([...this.checkpoints]);
    await this.stop();
  }

  private journalPath(seq: number): string {
    return join(this.journalDir, `${process.pid}-${this.run}-${seq}.log`);
  }

  /** Starts a new journal; the old one is checkpointed in the background. */
  private rotate(): void {
    if (this.journalBytes === 0) return;
    const journal = this.journalPath(this.seq);
    const files = [...this.dirty];
    this.seq++;
    this.journalBytes = 0;
    this.dirty = new Set();
    // a failed checkpoint leaves the journal behind: the next start replays it
    const p = this.send(this.threads().syncer, { op: 'checkpoint', journal, files }).catch(() => undefined);
    this.checkpoints.add(p);
    void p.finally(() => this.checkpoints.delete(p));
  }

  private armRotate(): void {
    if (this.rotateTimer || this.closed) return;
    const ms = this.opts.rotateMs ?? 5000;
    this.rotateTimer = setTimeout(() => {
      this.rotateTimer = undefined;
      if (this.inflight === 0 && Date.now() - this.journalSince >= ms) this.rotate();
      if (this.journalBytes > 0) this.armRotate();
    }, ms);
    this.rotateTimer.unref();
  }

  private armIdle(): void {
    if (this.inflight > 0 || !this.writer || this.closed) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.inflight > 0 || this.journalBytes > 0 || this.checkpoints.size) return this.armIdle();
      void this.stop();
    }, this.opts.idleMs ?? 5 * 60_000);
    this.idleTimer.unref();
  }

  private threads(): { writer: Slot; syncer: Slot } {
    this.writer ??= this.spawn();
    this.syncer ??= this.spawn();
    return { writer: this.writer, syncer: this.syncer };
  }

  private async stop(): Promise<void> {
    const slots = [this.writer, this.syncer].filter((s): s is Slot => s !== undefined);
    this.writer = undefined;
    this.syncer = undefined;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    // Its heap holds a round's texts (at most 8 MB, or one larger result) twice, as given and as
    // journal frames, twice more for text that is not Latin-1 (two bytes a character).
    const itemMb = Math.ceil((this.opts.maxItemBytes ?? 1024 * 1024) / (1024 * 1024));
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: Math.max(64, 4 * itemMb + 32) } });
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (m: { id: number; errors: ({ message: string; code?: string } | null)[] }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      p.resolve(m.errors.map((e) => (e ? Object.assign(new Error(e.message), e.code ? { code: e.code } : {}) : undefined)));
    });
    const fail = (e: Error): void => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      // a dead thread is replaced on next use
      if (this.writer === slot) this.writer = undefined;
      if (this.syncer === slot) this.syncer = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (slot.pending.size) fail(new Error(`result file thread exited with code ${code}`));
    });
    return slot;
  }

  private send(slot: Slot, m: Message): Promise<(Error | undefined)[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      // pending work keeps the process alive until it is on disk
      slot.worker.ref();
      slot.worker.postMessage({ ...m, id, mode: this.opts.mode ?? 0o600 });
    });
  }
}

/** The whole frames of a journal (a torn tail from a crash mid-append ends it). */
export function readJournal(file: string): JournalEntry[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (payload.length !== len || crc32(payload) >>> 0 !== sum) break;
    try {
      const e = JSON.parse(payload.toString('utf8')) as { f: unknown; d: unknown };
      if (typeof e.f === 'string' && (typeof e.d === 'string' || e.d === null)) out.push({ file: e.f, data: e.d });
    } catch {
      break;
    }
    off += 8 + len;
  }
  return out;
}

