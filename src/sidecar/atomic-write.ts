import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * The algorithm of src/core/atomic-file.ts (temp sibling, fsync, rename, fsync the folder),
 * but on the libuv thread pool: the synchronous version blocks the sidecar's event loop for
 * both fsyncs, which under 119 concurrent agents stalls every other route behind each write.
 * Resolves only once the file is on disk.
 */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'w', mode);
  } catch (e) {
    // the folder usually exists already: create it only when the open says it does not
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dir, { recursive: true });
    fh = await open(tmp, 'w', mode);
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // some filesystems cannot fsync a directory; the rename is still atomic
  }
}
