import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { isSameProcess, processIdentity } from './process-alive.js';

/** What an owner file records: the owning process (pid and identity) and whatever the owner adds. */
export interface OwnerRecord {
  pid: number;
  /** `processIdentity()` of the owner: a pid alone may have come back to another process. */
  identity?: string | undefined;
}

/** What an owner file says: its live owner, if any, and where an unreadable file was set aside. */
export interface OwnerFileState<T> {
  owner: T | undefined;
  /** The file could not be parsed (truncated, overwritten): it was renamed to this path, not deleted. */
  setAside?: string;
}

/**
 * The live owner a file records, or undefined; a record of a process that is gone (or whose pid
 * now belongs to another process) is removed. A file that is not a record at all is kept as
 * `<file>.corrupt` for the caller to report: its owner, if still running, is unknown from it.
 */
export function inspectOwner<T extends OwnerRecord>(file: string): OwnerFileState<T> {
  if (!existsSync(file)) return { owner: undefined };
  let rec: T | undefined;
  try {
    rec = JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { owner: undefined };
    return { owner: undefined, ...setAside(file) };
  }
  if (typeof rec !== 'object' || rec === null || typeof rec.pid !== 'number') return { owner: undefined, ...setAside(file) };
  // a record of our own pid without an identity was written by an earlier process with our pid
  const ours = rec.pid === process.pid && rec.identity === undefined && processIdentity() !== undefined;
  if (isSameProcess(rec.pid, rec.identity, rec.identity ? undefined : writtenAt(file, rec)) && !ours) return { owner: rec };
  rmSync(file, { force: true });
  return { owner: undefined };
}

/** When a record was written: its own `startedAt` when it has one, else the file's modification time. */
function writtenAt(file: string, rec: OwnerRecord): number | undefined {
  const at = (rec as { startedAt?: unknown }).startedAt;
  if (typeof at === 'number') return at;
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function setAside(file: string): { setAside?: string } {
  const aside = `${file}.corrupt`;
  try {
    renameSync(file, aside);
    return { setAside: aside };
  } catch {
    rmSync(file, { force: true });
    return {};
  }
}

/** The live owner a file records, or undefined (see `inspectOwner`). */
export function readOwner<T extends OwnerRecord>(file: string): T | undefined {
  return inspectOwner<T>(file).owner;
}

/**
 * Creates `file` with `text`, failing with EEXIST when it exists. The text is written to a file of
 * our own first and linked in, so a reader never sees the file empty or half-written (it would
 * take that for a corrupt record).
 */
function createComplete(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw e;
    // a file system without hard links: exclusive create, then write
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, text);
    closeSync(fd);
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface OwnerLock<T> {
  update(next: Partial<T>): void;
  release(): void;
}

/**
 * Takes `file` for this process (exclusive create, 0600), recording `rec` with this process's
 * identity. A record left by a process that is gone is recovered; a live owner other than this
 * process is passed to `held`, which throws.
 */
export function takeOwnerLock<T extends OwnerRecord>(file: string, rec: T, held: (owner: T) => never): OwnerLock<T> {
  let current: T = { ...rec, identity: processIdentity() };
  for (let attempt = 0; attempt < 3; attempt++) {
    const owner = readOwner<T>(file);
    if (owner && owner.pid !== process.pid) held(owner);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      createComplete(file, JSON.stringify(current));
      return {
        update(next) {
          current = { ...current, ...next };
          writeFileAtomic(file, JSON.stringify(current), 0o600, { durable: false });
        },
        release() {
          try {
            const onDisk = JSON.parse(readFileSync(file, 'utf8')) as T;
            if (onDisk.pid === process.pid && onDisk.identity === current.identity) rmSync(file, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // someone created it between our check and create: look again
    }
  }
  const owner = readOwner<T>(file);
  if (owner) held(owner);
  throw new Error(`Could not take ${file}`);
}
