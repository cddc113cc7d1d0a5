import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { AppError } from '../core/errors.js';

/**
 * The project roots context may be built from: the default root (the daemon's working
 * directory unless `[sidecar] project_root` says otherwise) and `allowed_roots`. A request's
 * `?root=` must resolve — symlinks included — to one of them or a folder below.
 */
export class ProjectRoots {
  readonly defaultRoot: string;
  private readonly allowed: string[];
  /** How many of `allowed` come from the configuration (the rest from launches, see `allow`). */
  private readonly fixed: number;

  /** The configured roots as written (before symlinks are resolved): a path that does not exist can only be compared with these. */
  private readonly written: string[];

  constructor(defaultRoot: string, allowed: readonly string[]) {
    this.defaultRoot = real(resolve(defaultRoot));
    this.allowed = [this.defaultRoot, ...allowed.map((r) => real(resolve(r)))];
    this.fixed = this.allowed.length;
    this.written = [resolve(defaultRoot), ...allowed.map((r) => resolve(r))];
  }

  /**
   * Allows a project folder from now on (the folder a `cco` launch runs in: the daemon outlives
   * one project, and its default root is the folder it started in). Returns its real path, or
   * undefined when it is not an existing absolute folder.
   */
  allow(dir: string): string | undefined {
    if (!isAbsolute(dir)) return undefined;
    let r: string;
    try {
      r = realpathSync(dir);
      if (!statSync(r).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
    if (!this.allowed.includes(r)) {
      // bounded: the oldest launch's folder goes first (never the configured ones)
      if (this.allowed.length - this.fixed >= 1000) this.allowed.splice(this.fixed, 1);
      this.allowed.push(r);
    }
    return r;
  }

  resolve(requested: string | undefined): string {
    if (requested === undefined || requested === '') return this.defaultRoot;
    if (!isAbsolute(requested)) throw new AppError(400, 'invalid_request', 'query.root: must be an absolute path', { field: 'query.root' });
    const outside = () => new AppError(403, 'root_not_allowed', `query.root: ${requested} is outside the allowed project roots; add it to [sidecar] allowed_roots`, { field: 'query.root' });
    let r: string;
    try {
      r = realpathSync(resolve(requested));
    } catch {
      // Only a path inside the roots is said not to exist: outside them, existing or not, the
      // answer is the same (an agent cannot probe the machine's folders through this route).
      const asWritten = resolve(requested);
      // a root reached through a symlink (macOS's /tmp, a linked home) is compared as written too
      if (!this.within(asWritten) && !this.written.some((w) => under(asWritten, w))) throw outside();
      throw new AppError(400, 'invalid_request', `query.root: ${requested} does not exist`, { field: 'query.root' });
    }
    if (!this.within(r)) throw outside();
    // a file is no project: its context would be empty (no files, no git), answered as a success
    if (!isDirectory(r)) throw new AppError(400, 'invalid_request', `query.root: ${requested} is not a directory; give the project's folder`, { field: 'query.root' });
    return r;
  }

  private within(path: string): boolean {
    return this.allowed.some((a) => under(path, a));
  }
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
