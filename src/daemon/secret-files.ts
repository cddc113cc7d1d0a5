import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../core/atomic-file.js';

/**
 * A secret kept in a 0600 file, created on first use. Used for the sealing key and the local
 * access token; both survive daemon restarts so open dashboards and sealed files stay valid.
 */
export function loadOrCreateSecret(file: string, bytes: number, encoding: 'hex' | 'base64url'): string {
  if (existsSync(file)) {
    const v = readFileSync(file, 'utf8').trim();
    if (v.length >= bytes) {
      chmodSync(file, 0o600);
      return v;
    }
  }
  const v = randomBytes(bytes).toString(encoding);
  writeFileAtomic(file, v, 0o600);
  return v;
}

export const loadSealingKey = (file: string): Buffer => Buffer.from(loadOrCreateSecret(file, 32, 'hex'), 'hex');
export const loadAccessToken = (file: string): string => loadOrCreateSecret(file, 24, 'base64url');
