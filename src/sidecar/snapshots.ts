import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { gitWatchDirs, recentCommits } from './git-info.js';
import type { Commit } from './git-info.js';
import { scanProject } from './project-scan.js';
import type { ProjectScan } from './project-scan.js';
import type { ContentCache } from './relevance.js';

export interface Snapshot {
  root: string;
  /** Bumped every time the root's files change; keys of derived caches include it. */
  gen: number;
  scan: ProjectScan;
  git: { branch: string | null; commits: Commit[] };
  /** File contents read for ranking, per relative path. */
  contents: ContentCache;
  /** Derived values (ranked files per agent type and terms), dropped with the snapshot. */
  derived: Map<string, unknown>;
  /** Whether every walked directory is watched (else a max age bounds staleness). */
  fullyWatched: boolean;
  takenAt: number;
}

/** Project roots whose snapshots are kept at once (see `evictBeyond`). */
const MAX_ROOTS = 8;

interface Entry {
  gen: number;
  snapshot?: Promise<Snapshot>;
  watchers: FSWatcher[];
}

/**
 * Scans of project roots, kept until a file under the root changes. Each walked directory (and
 * `.git` for new commits) gets a non-recursive fs.watch — recursive watching on Linux would
 * descend into ignored trees such as node_modules. Past `maxWatchers` directories, snapshots
 * also expire after `maxAgeMs`.
 */
export class ProjectSnapshots {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(root: string) => void>();

  constructor(private readonly opts: { maxWatchers?: number; maxAgeMs?: number; maxFiles?: number; skipDirs?: readonly string[]; maxRoots?: number } = {}) {}

  get(root: string): Promise<Snapshot> {
    let e = this.entries.get(root);
    if (!e) {
      e = { gen: 0, watchers: [] };
      this.entries.set(root, e);
      this.evictBeyond(root);
    } else {
      // most recently asked for last (the map's order is the eviction order)
      this.entries.delete(root);
      this.entries.set(root, e);
    }
    const cur = e.snapshot;
    if (cur) {
      return cur.then((s) => {
        if (s.fullyWatched || Date.now() - s.takenAt < (this.opts.maxAgeMs ?? 30_000)) return s;
        // Expired (directories past the watchers may have changed unseen): dropped as a change
        // would drop it, so that what was derived from it (cached contexts) goes too. Callers
        // that saw the same expired snapshot share the one rescan.
        if (this.entries.get(root)?.snapshot === cur) this.invalidate(root);
        return this.get(root);
      });
    }
    return this.rebuild(root);
  }

  /** Called with the root whenever its snapshot is dropped because files changed. */
  onChange(fn: (root: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  invalidate(root: string): void {
    const e = this.entries.get(root);
    if (!e) return;
    for (const w of e.watchers) w.close();
    e.watchers = [];
    e.gen++;
    delete e.snapshot;
    for (const l of this.listeners) l(root);
  }

  /**
   * Roots beyond `maxRoots` (default MAX_ROOTS) give up their snapshot, least recently asked for
   * first: every `?root=` (any subfolder of an allowed root) kept its scan, its watchers and up to
   * 64 MB of file contents until a file under it changed (12 roots: +365 MB of heap, for good).
   */
  private evictBeyond(keep: string): void {
    const max = this.opts.maxRoots ?? MAX_ROOTS;
    for (const root of this.entries.keys()) {
      if (this.entries.size <= max) return;
      if (root === keep) continue;
      this.invalidate(root);
      this.entries.delete(root);
    }
  }

  get size(): number {
    return [...this.entries.values()].filter((e) => e.snapshot).length;
  }

  close(): void {
    for (const e of this.entries.values()) for (const w of e.watchers) w.close();
    this.entries.clear();
  }

  private rebuild(root: string): Promise<Snapshot> {
    const e = this.entries.get(root) as Entry;
    for (const w of e.watchers) w.close();
    e.watchers = [];
    const gen = ++e.gen;
    const p = (async (): Promise<Snapshot> => {
      // each directory is watched before it is read, so a change during the scan still counts
      const fire = (): void => {
        if (this.entries.get(root)?.gen === gen) this.invalidate(root);
      };
      const max = this.opts.maxWatchers ?? 4000;
      // a folder whose watch could not be set up (the system's limit of watches reached: ENOSPC)
      // is not watched: the snapshot then expires after maxAgeMs like an unwatched one
      let failed = false;
      const watchDir = (d: string): void => {
        if (e.watchers.length >= max + 3) return;
        try {
          const w = watch(d, { persistent: false }, fire);
          w.on('error', fire);
          e.watchers.push(w);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failed = true;
        }
      };
      // where commits and branch switches land (a worktree's or a parent folder's repository too)
      for (const d of await gitWatchDirs(root)) watchDir(d);
      const [scan, git] = await Promise.all([scanProject(root, { maxFiles: this.opts.maxFiles ?? 20_000, onDir: watchDir, ...(this.opts.skipDirs ? { skipDirs: this.opts.skipDirs } : {}) }), recentCommits(root)]);
      return { root, gen, scan, git, contents: { files: new Map(), bytes: 0 }, derived: new Map(), fullyWatched: scan.dirs.length <= max && !scan.truncated && !failed, takenAt: Date.now() };
    })();
    e.snapshot = p;
    p.catch(() => {
      if (e.snapshot === p) delete e.snapshot;
    });
    return p;
  }
}
