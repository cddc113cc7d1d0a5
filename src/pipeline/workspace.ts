import { closeSync, constants as fsConstants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { atomicTempName, atomicTempOwner, fsyncDir, writeFileAtomic } from '../core/atomic-file.js';
import { isAlive } from '../core/process-alive.js';
import { TASK_ID_RE } from './schemas.js';

/** Why a file path from an agent was refused. */
export class UnsafePathError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`unsafe file path ${shortPath(path)}: ${reason}`);
    this.name = 'UnsafePathError';
  }
}

/**
 * Longest name of one file or folder, in UTF-8 bytes. Linux allows 255, but a file is written
 * through a temporary `.<name>.<pid>.<random>.tmp` beside it (22 bytes more) and archived as
 * `<name>.gz`: 200 leaves room for both.
 */
export const MAX_NAME_BYTES = 200;

/** A path quoted for an error message, cut short: the agent's retry prompt and the task error stay readable. */
export function shortPath(p: string, max = 60): string {
  const chars = [...p];
  return JSON.stringify(chars.length > max ? `${chars.slice(0, max).join('')}…` : p);
}

/**
 * Normalises a relative file path an agent proposed, refusing anything that could leave the
 * task's folder: absolute paths, drive letters, `..`, NUL and control characters, hidden
 * top-level tricks like `.git/`, and names the file system would refuse (too long in bytes).
 * The whole path is at most 255 characters (so at most 1,020 UTF-8 bytes).
 */
export function safeRelativePath(p: string): string {
  if (!p || p.length > 255) throw new UnsafePathError(p, 'empty or longer than 255 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(p)) throw new UnsafePathError(p, 'contains control characters');
  const slashed = p.replace(/\\/g, '/');
  if (isAbsolute(slashed) || /^[a-zA-Z]:/.test(slashed) || slashed.startsWith('/')) throw new UnsafePathError(p, 'absolute paths are not allowed');
  const parts = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) throw new UnsafePathError(p, 'names no file');
  if (parts.some((s) => s === '..')) throw new UnsafePathError(p, '".." is not allowed');
  if (parts[0] === '.git' || parts[0] === '.cco') throw new UnsafePathError(p, `"${parts[0]}" is reserved`);
  if (parts.length > 12) throw new UnsafePathError(p, 'nested too deeply');
  const long = parts.find((s) => Buffer.byteLength(s, 'utf8') > MAX_NAME_BYTES);
  if (long !== undefined) throw new UnsafePathError(p, `the name ${shortPath(long, 20)} is ${Buffer.byteLength(long, 'utf8')} bytes in UTF-8; a file or folder name may have at most ${MAX_NAME_BYTES}`);
  return parts.join('/');
}

/**
 * Checks the paths of the files one task writes, as a set: each one safe (`safeRelativePath`),
 * none twice, and none used both as a file and as a folder (`a` and `a/b.js`), which the file
 * system would refuse only when the files are written. Returns the first problem, or undefined.
 */
export function fileSetProblem(paths: readonly string[]): string | undefined {
  const files = new Set<string>();
  const folders = new Map<string, string>();
  for (const raw of paths) {
    let p: string;
    try {
      p = safeRelativePath(raw);
    } catch (e) {
      return e instanceof UnsafePathError ? e.message : String(e);
    }
    if (files.has(p)) return `file ${shortPath(p)} appears twice`;
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (files.has(folder)) return clash(folder, p);
      if (!folders.has(folder)) folders.set(folder, p);
    }
    const inside = folders.get(p);
    if (inside !== undefined) return clash(p, inside);
    files.add(p);
  }
  return undefined;
}

/**
 * The paths integration writes: the implementation's files, plus `README.md` (the integrator's
 * readme) when none of them is a readme.
 */
export function withReadme(paths: readonly string[]): string[] {
  return paths.some(isRootReadme) ? [...paths] : [...paths, 'README.md'];
}

/** Whether a path the implementer gave is the task's top-level readme (`README.md`, `./readme.md`). */
export function isRootReadme(path: string): boolean {
  try {
    return safeRelativePath(path).toLowerCase() === 'readme.md';
  } catch {
    return false;
  }
}

function clash(file: string, inside: string): string {
  return `${shortPath(file)} is both a file and the folder of ${shortPath(inside)}; rename one of them`;
}

/** `workspace/implementation/<task>/` and `completed_archive/<task>/`, with path checks. */
export class Workspace {
  constructor(
    readonly workspaceDir: string,
    readonly archiveDir: string,
  ) {}

  taskDir(taskId: string): string {
    if (!TASK_ID_RE.test(taskId)) throw new Error(`invalid task id ${taskId}`);
    return join(this.workspaceDir, 'implementation', taskId);
  }

  archiveDirOf(taskId: string): string {
    if (!TASK_ID_RE.test(taskId)) throw new Error(`invalid task id ${taskId}`);
    return join(this.archiveDir, taskId);
  }

  /**
   * A file system error of a write here (`EACCES: permission denied, mkdir '…'`), said in words
   * with its fix: which folder this user cannot write, or which file is in the way of a folder.
   * Undefined for any other error (the caller keeps its message).
   */
  writeProblem(err: unknown): string | undefined {
    const e = err as NodeJS.ErrnoException | null;
    if (typeof e?.code !== 'string' || typeof e.path !== 'string') return undefined;
    const label = isInside(e.path, this.archiveDir) ? 'archive folder' : 'workspace folder';
    return sayWriteProblem(e.code, culpritOf(e.code, e.path), label);
  }

  /**
   * Whether this user can write the folders tasks write into (`workspace/implementation` and the
   * archive, or the nearest folder above that exists, where they would be created): undefined,
   * or the first problem with its fix. Cheap (a stat and an access per folder), for /health.
   */
  async writableProblem(): Promise<string | undefined> {
    const folders: [string, string][] = [
      [join(this.workspaceDir, 'implementation'), 'workspace folder'],
      [this.archiveDir, 'archive folder'],
    ];
    for (const [dir, label] of folders) {
      const problem = await folderProblem(dir, label);
      if (problem) return problem;
    }
    return undefined;
  }

  /** Removes the task's folder and its files (a retried task writes them again). */
  removeTaskDir(taskId: string): void {
    rmSync(this.taskDir(taskId), { recursive: true, force: true });
  }

  /** Writes one file inside the task's folder (atomically); returns its absolute path. */
  writeFile(taskId: string, relPath: string, content: string): string {
    const root = this.taskDir(taskId);
    mkdirSync(root, { recursive: true });
    const rel = safeRelativePath(relPath);
    const target = join(root, normalize(rel));
    const back = relative(root, target);
    if (back.startsWith('..') || isAbsolute(back)) throw new UnsafePathError(relPath, 'leaves the task folder');
    mkdirSync(dirname(target), { recursive: true });
    // A symlink planted inside the folder must not redirect the write outside it.
    const realRoot = realpathSync(root);
    const realParent = realpathSync(dirname(target));
    if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) throw new UnsafePathError(relPath, 'resolves outside the task folder');
    writeFileAtomic(target, content, 0o644);
    return target;
  }

  /**
   * Copies the task's files and its record into the archive; returns the archive folder. With
   * `gzipLevel` each file is stored gzip-compressed as `<path>.gz` (`gunzip -r files/` restores them).
   * The archive is built in a temporary folder beside its place and renamed into it, so a half
   * archive is never at the final path (a build a kill interrupted keeps its temporary name:
   * `removeStaleTemps`). Temporary files of interrupted writes in the task folder are left out.
   */
  archive(taskId: string, record: unknown, opts: { gzipLevel?: number | undefined; replace?: boolean } = {}): string {
    const dest = this.archiveDirOf(taskId);
    mkdirSync(this.archiveDir, { recursive: true });
    const build = join(this.archiveDir, atomicTempName(taskId));
    try {
      mkdirSync(build);
      const src = this.taskDir(taskId);
      if (existsSync(src)) copyTree(src, join(build, 'files'), opts.gzipLevel);
      writeFileAtomic(join(build, 'task.json'), JSON.stringify(record, null, 2), 0o644);
      placeArchive(build, dest, () => join(this.archiveDir, atomicTempName(taskId)), opts.replace === true);
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
    return dest;
  }

  /**
   * Removes what writes killed halfway left: temporary files (`atomicTempName`) in the task
   * folders and archive builds in the archive, whose process is gone. Returns how many.
   */
  removeStaleTemps(now = Date.now()): number {
    let removed = 0;
    const sweep = (dir: string, deep: boolean): void => {
      for (const e of entriesOf(dir)) {
        const path = join(dir, e.name);
        if (isStaleTemp(path, e.name, now)) {
          rmSync(path, { recursive: true, force: true });
          removed++;
        } else if (deep && e.isDirectory()) sweep(path, deep);
      }
    };
    sweep(join(this.workspaceDir, 'implementation'), true);
    sweep(this.archiveDir, false);
    return removed;
  }

  /**
   * Retention: deletes archive entries older than `archiveDays`, beyond the newest `archiveMax`,
   * or once the newest ones add up to `archiveMaxBytes`, and task folders in the workspace older
   * than `workspaceDays` (0 = keep). `archivedTasks` / `workspaceTasks`: the ids whose archive /
   * task folder was deleted (their task rows still name it).
   */
  cleanup(opts: { archiveDays: number; archiveMax: number; archiveMaxBytes?: number; workspaceDays: number; now?: number }): { archives: number; workspaces: number; archivedTasks: string[]; workspaceTasks: string[] } {
    const now = opts.now ?? Date.now();
    const removed = { archives: 0, workspaces: 0, archivedTasks: [] as string[], workspaceTasks: [] as string[] };
    const entries = listTaskDirs(this.archiveDir).sort((a, b) => b.mtime - a.mtime);
    // newest first: once the size bound is reached, it and every older entry go
    let kept = 0;
    let full = false;
    entries.forEach((e, i) => {
      const old = opts.archiveDays > 0 && now - e.mtime > opts.archiveDays * 86_400_000;
      const over = opts.archiveMax > 0 && i >= opts.archiveMax;
      if (!full && opts.archiveMaxBytes) {
        kept += treeBytes(e.path);
        full = kept > opts.archiveMaxBytes;
      }
      if (old || over || full) {
        rmSync(e.path, { recursive: true, force: true });
        removed.archives++;
        removed.archivedTasks.push(e.id);
      }
    });
    if (opts.workspaceDays > 0) {
      for (const e of listTaskDirs(join(this.workspaceDir, 'implementation'))) {
        if (now - e.mtime > opts.workspaceDays * 86_400_000) {
          rmSync(e.path, { recursive: true, force: true });
          removed.workspaces++;
          removed.workspaceTasks.push(e.id);
        }
      }
    }
    return removed;
  }
}

/** Codes of the writes the daemon's own user or disk prevents (the agent's file names are checked before). */
const NO_ACCESS = new Set(['EACCES', 'EPERM']);
const IN_THE_WAY = new Set(['ENOTDIR', 'EEXIST']);
const FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The words for a write refused with `code` at `at` (the folder that cannot be written, or the
 * file in the way of a folder), with the fix; undefined for a code this does not explain.
 */
function sayWriteProblem(code: string, at: { path: string; isDir: boolean }, label: string): string | undefined {
  if (NO_ACCESS.has(code) && at.isDir) {
    const user = currentUser();
    return `the ${label} ${at.path} is not writable by this user (${user}) (${code}): fix its owner/permissions (e.g. chown -R ${user} ${at.path}, or chmod u+rwx ${at.path})`;
  }
  if (IN_THE_WAY.has(code) && !at.isDir) {
    return `a file is in the way: ${at.path} is a file where the ${label} needs a folder (${code}): move or remove that file`;
  }
  if (code === 'EROFS') return `the ${label} ${at.path} is on a read-only file system (EROFS): remount it read-write, or set CCO_HOME to a writable folder and restart the daemon`;
  if (FULL.has(code)) return `the disk of the ${label} ${at.path} is full (${code}): free some space`;
  return undefined;
}

/**
 * What a write refused with `code` at `path` ran into: for a file in the way (`ENOTDIR`,
 * `EEXIST`), the nearest path at or above it that exists; otherwise the nearest folder (the one
 * that could not be written: a missing folder's parent, a refused temporary file's folder).
 */
function culpritOf(code: string, path: string): { path: string; isDir: boolean } {
  for (let p = path; ; p = dirname(p)) {
    const st = statOrUndefined(p);
    if (st && (st.isDirectory() || IN_THE_WAY.has(code))) return { path: p, isDir: st.isDirectory() };
    if (dirname(p) === p) return { path, isDir: true };
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** The problem that stops this user writing in `dir` (or creating it), with its fix; undefined when none. */
async function folderProblem(dir: string, label: string): Promise<string | undefined> {
  for (let p = dir; ; p = dirname(p)) {
    let st: Stats;
    try {
      st = await stat(p);
    } catch {
      if (dirname(p) === p) return undefined;
      continue;
    }
    if (!st.isDirectory()) return sayWriteProblem('ENOTDIR', { path: p, isDir: false }, label);
    try {
      await access(p, fsConstants.W_OK | fsConstants.X_OK);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EACCES';
      return sayWriteProblem(code, { path: p, isDir: true }, label) ?? `the ${label} ${p} cannot be written (${code})`;
    }
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // a container user without a passwd entry
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function isInside(path: string, dir: string): boolean {
  const back = relative(dir, path);
  return back === '' || (!back.startsWith('..') && !isAbsolute(back));
}

/** Bytes of the files under a folder. */
function treeBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? treeBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return n;
}

/**
 * Copies a folder's regular files (with `gzipLevel`, each gzip-compressed as `<name>.gz`), each
 * on disk before the copy returns; temporary files of interrupted writes are left out.
 */
function copyTree(src: string, dest: string, gzipLevel: number | undefined): void {
  mkdirSync(dest, { recursive: true });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    if (atomicTempOwner(e.name) !== undefined) continue;
    const from = join(src, e.name);
    if (e.isDirectory()) copyTree(from, join(dest, e.name), gzipLevel);
    else if (e.isFile()) {
      const data = readFileSync(from);
      writeDurably(join(dest, gzipLevel ? `${e.name}.gz` : e.name), gzipLevel ? gzipSync(data, { level: gzipLevel }) : data);
    }
  }
}

function writeDurably(file: string, data: Uint8Array): void {
  const fd = openSync(file, 'wx', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Where a retried task's archive keeps the files of its earlier run, when the rerun delivered none. */
export const PREVIOUS_RUN_FILES = 'previous-run-files';

/**
 * Renames a finished archive build to `dest`. An archive already there with its `task.json` is
 * complete (another instance archived the task, or a daemon was killed before recording it) and
 * is kept, unless `replace` (it records a retried task's earlier run); one without (half-copied
 * by an older version) is replaced.
 */
function placeArchive(build: string, dest: string, aside: () => string, replace: boolean): void {
  try {
    renameSync(build, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    // a complete archive is kept (another instance archived the same end), unless it records an earlier run
    if (!replace && existsSync(join(dest, 'task.json'))) return;
    // A rerun that ended without files (it failed before its integration) keeps the files the
    // earlier run delivered: the retry removed them from the workspace, this is their only copy.
    if (replace && !existsSync(join(build, 'files'))) {
      const earlier = existsSync(join(dest, 'files')) ? join(dest, 'files') : join(dest, PREVIOUS_RUN_FILES);
      if (existsSync(earlier)) renameSync(earlier, join(build, PREVIOUS_RUN_FILES));
    }
    const old = aside();
    renameSync(dest, old);
    try {
      renameSync(build, dest);
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  }
  fsyncDir(dirname(dest));
}


/**
 * A temporary file or archive build whose writer is gone: its process is not running (or, for
 * our own pid, which a restarted container gets again, it is an hour old: writes take moments).
 */
function isStaleTemp(path: string, name: string, now: number): boolean {
  const pid = atomicTempOwner(name);
  if (pid === undefined) return false;
  if (pid !== process.pid) return !isAlive(pid);
  try {
    return now - statSync(path).mtimeMs > 3600_000;
  } catch {
    return false;
  }
}

function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function listTaskDirs(dir: string): { id: string; path: string; mtime: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => TASK_ID_RE.test(n))
    .map((n) => {
      const path = join(dir, n);
      return { id: n, path, mtime: statSync(path).mtimeMs };
    });
}
