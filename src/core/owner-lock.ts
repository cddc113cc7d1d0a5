import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { isSameProcess, processIdentity } from './process-alive.js';

/** What an owner file records: the owning process (pid and identity) and whatever the owner adds. */
export interface OwnerRecord {
  pid: number;
  /** `processIdentity()` of the owner: a pid alone may have come back to another process. */
  identity?: string | undefined;
}

/**
 * The live owner a file records, or undefined; a record of a process that is gone (or whose pid
 * now belongs to another process) is removed.
 */
export function readOwner<T extends OwnerRecord>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  let rec: T | undefined;
  try {
    rec = JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    rec = undefined;
  }
  // a record of our own pid without an identity was written by an earlier process with our pid
  const ours = rec?.pid === process.pid && rec.identity === undefined && processIdentity() !== undefined;
  if (rec && typeof rec.pid === 'number' && isSameProcess(rec.pid, rec.identity) && !ours) return rec;
  rmSync(file, { force: true });
  return undefined;
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
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(current));
      closeSync(fd);
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
