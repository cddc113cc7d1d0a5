import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /**
   * fsync the file and its folder before returning (default). Files the daemon regenerates on
   * every start (launch settings, sealed copies, lock and ready files, caches) pass false: they
   * only need readers never to see a torn file, and the fsyncs cost ~20 ms of each cold start.
   */
  durable?: boolean;
}

/** The temporary sibling a write goes through: `.<name>.<pid>.<8 hex>.tmp`. */
export function atomicTempName(name: string, pid = process.pid): string {
  return `.${name}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
}

const TEMP_NAME_RE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * The pid of the process that made a temporary name of `atomicTempName` (a file left by a write
 * that was killed halfway, if that process is gone); undefined for any other name.
 */
export function atomicTempOwner(name: string): number | undefined {
  const m = TEMP_NAME_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Writes a file so that readers see the old content or the new, never a torn one, and (unless
 * `durable: false`) so that it is on disk before we return (write to a temp sibling, fsync,
 * rename, fsync the folder).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, opts: AtomicWriteOptions = {}): void {
  const durable = opts.durable !== false;
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, atomicTempName(basename(file)));
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  if (durable) fsyncDir(dir);
}

/** Flushes a folder's entries (a rename into it) to disk; some file systems cannot, and the rename is atomic anyway. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems cannot fsync a folder; the rename is still atomic
  }
}
