import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';

/**
 * Sealed files: AES-256-GCM with the daemon's key. Layout: magic `CCOSEAL1` (8 bytes), IV
 * (12), auth tag (16), ciphertext. The file name is bound in as associated data, so a sealed
 * file copied over another is detected too.
 */
const MAGIC = Buffer.from('CCOSEAL1');

export function seal(key: Buffer, name: string, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(name));
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([MAGIC, iv, c.getAuthTag(), body]);
}

export function unseal(key: Buffer, name: string, data: Buffer): string {
  if (data.length < MAGIC.length + 28 || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a sealed file');
  const iv = data.subarray(8, 20);
  const tag = data.subarray(20, 36);
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(name));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(data.subarray(36)), d.final()]).toString('utf8');
}

export class SealedFileError extends Error {
  constructor(
    readonly code: 'sealed_missing' | 'sealed_tampered',
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'SealedFileError';
  }
}

export interface SealedSet {
  /** Where each sealed file goes, with its plaintext. */
  files: { path: string; content: string }[];
}

export function writeSealed(key: Buffer, path: string, content: string): void {
  // Rewritten on every start from the daemon's state, so no fsync is needed.
  writeFileAtomic(path, seal(key, basename(path), content), 0o600, { durable: false });
}

/** Opens a sealed file or says exactly what is wrong and how to fix it. */
export function readSealed(key: Buffer, path: string): string {
  if (!existsSync(path)) {
    throw new SealedFileError('sealed_missing', path, `Temp file missing: ${basename(path)}. Restart the daemon to regenerate it: cco daemon restart`);
  }
  try {
    return unseal(key, basename(path), readFileSync(path));
  } catch {
    throw new SealedFileError(
      'sealed_tampered',
      path,
      `Settings file verification failed: ${path} was modified or sealed with another key. The daemon writes them anew when it restarts: cco daemon restart`,
    );
  }
}

export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
