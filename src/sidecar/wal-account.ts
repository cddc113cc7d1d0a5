import { closeSync, openSync, readSync } from 'node:fs';
import SQLite from 'better-sqlite3';

/** What the WAL received while an account was open: frames (page writes) per b-tree. */
export interface WalWrites {
  pageSize: number;
  /** Frames appended: each is one page written (again) by a commit. */
  frames: number;
  /** Commits (frames that end a transaction). */
  commits: number;
  /** Frames per table or index (`(free or new)`: pages that are not in a b-tree at the end). */
  byTree: Record<string, number>;
}

/**
 * Counts the pages a SQLite database's commits write to its WAL over a stretch of time (the
 * sidecar benchmark's steady figure: WAL bytes per request, unlike a p99 not moved by the
 * machine's noise). `start` truncates the WAL and pins it with an open read transaction: no
 * checkpoint can copy or reset it, so every frame written meanwhile stays in the file. `stop`
 * reads the frames, then releases the pin and attributes each frame's page to its b-tree
 * (dbstat). While an account is open the WAL grows without bound: for measurement only.
 */
export class WalAccount {
  private readonly db: SQLite.Database;

  constructor(private readonly file: string) {
    this.db = new SQLite(file, { timeout: 10_000 });
  }

  start(): void {
    // (busy = 1 when a writer held it up: the frames counted then include earlier ones)
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.exec('begin');
    this.db.prepare('select count(*) from sqlite_master').get();
  }

  stop(): WalWrites {
    const pages = readWalFrames(`${this.file}-wal`);
    this.db.exec('commit');
    const owner = new Map<number, string>();
    for (const r of this.db.prepare('select name, pageno from dbstat').all() as { name: string; pageno: number }[]) owner.set(r.pageno, r.name);
    const byTree: Record<string, number> = {};
    for (const p of pages.pages) {
      const name = owner.get(p) ?? '(free or new)';
      byTree[name] = (byTree[name] ?? 0) + 1;
    }
    return { pageSize: pages.pageSize, frames: pages.pages.length, commits: pages.commits, byTree };
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('commit');
    this.db.close();
  }
}

/**
 * The valid frames of a WAL file (format: sqlite.org/fileformat2.html#walformat): a 32-byte
 * header with the page size and two salts, then frames of a 24-byte header (page number, the
 * database size after a commit, the salts) and one page. Frames whose salts differ from the
 * header's are left over from before the WAL was last reset: the first one ends the log.
 */
export function readWalFrames(walFile: string): { pageSize: number; pages: number[]; commits: number } {
  const fd = openSync(walFile, 'r');
  try {
    const head = Buffer.alloc(32);
    if (readSync(fd, head, 0, 32, 0) < 32) return { pageSize: 0, pages: [], commits: 0 };
    const pageSize = head.readUInt32BE(8) || 65536;
    const salt1 = head.readUInt32BE(16);
    const salt2 = head.readUInt32BE(20);
    const pages: number[] = [];
    let commits = 0;
    const fh = Buffer.alloc(24);
    for (let at = 32; readSync(fd, fh, 0, 24, at) === 24; at += 24 + pageSize) {
      if (fh.readUInt32BE(8) !== salt1 || fh.readUInt32BE(12) !== salt2) break;
      pages.push(fh.readUInt32BE(0));
      if (fh.readUInt32BE(4) !== 0) commits++;
    }
    return { pageSize, pages, commits };
  } finally {
    closeSync(fd);
  }
}
