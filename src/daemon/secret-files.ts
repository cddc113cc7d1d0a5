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
/**
 * The access token of programs, the dashboard and the gateway's clients. `CCO_ACCESS_TOKEN` sets
 * it (a team's instances share one, so a credential works on whichever instance a load balancer
 * picks); it is written to `file` too, where this machine's `cco` commands read it. Otherwise one
 * is made once per home.
 */
export function loadAccessToken(file: string, env: Record<string, string | undefined> = {}): string {
  const given = env.CCO_ACCESS_TOKEN?.trim();
  if (!given) return loadOrCreateSecret(file, 24, 'base64url');
  if (given.length < 24 || !/^[\x21-\x7e]+$/.test(given)) {
    // never the value itself: it may be a real secret with a typo
    throw new Error(`CCO_ACCESS_TOKEN is ${given.length} characters${given.length >= 24 ? ' with spaces or non-ASCII characters' : ''}; it must be at least 24 printable ASCII characters (generate one: openssl rand -hex 24)`);
  }
  const current = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (current !== given) writeFileAtomic(file, given, 0o600);
  return given;
}
