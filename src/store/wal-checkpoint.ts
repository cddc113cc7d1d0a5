import { readSync } from 'node:fs';
import { endianness } from 'node:os';

/**
 * WAL pages a SQLite file's WAL holds that no checkpoint has copied yet, read from the wal-index
 * header in its `-shm` file (sqlite.org/walformat.html: mxFrame at byte 16, nBackfill at 96, in
 * native byte order). CommonJS source for the store's writer thread, which checkpoints
 * (`walBacklog(fd)` with the `-shm` file open for reading; `sql-writer.ts`).
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

/**
 * The same reading on this thread (tests, diagnostics), through a descriptor the caller keeps open
 * as long as any connection of the process uses the file (`Store.shmFd`): opening and closing one
 * here would drop the process's POSIX locks on the file.
 */
export function walBacklog(shmFd: number): number {
  const b = Buffer.alloc(100);
  readSync(shmFd, b, 0, 100, 0);
  const read = (at: number) => (endianness() === 'LE' ? b.readUInt32LE(at) : b.readUInt32BE(at));
  return read(16) - read(96);
}
