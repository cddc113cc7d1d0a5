import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { Env, Paths } from '../config/paths.js';
import { loadOrCreateSecret } from '../daemon/secret-files.js';

const MIN = 32;

/**
 * The signing secrets of people's tokens.
 * - `JWT_SECRET` (at least 32 characters; "openssl rand -base64 32"): every instance of a team
 *   must share it. `JWT_REFRESH_SECRET` likewise; when only `JWT_SECRET` is set, the refresh
 *   secret is derived from it (HKDF), so one variable is enough for a team.
 * - Neither set: a single daemon generates both and keeps them 0600 under CCO_HOME, so logins
 *   survive restarts.
 */
export function userTokenSecrets(env: Env, paths: Paths): { accessSecret: string; refreshSecret: string } {
  const access = fromEnv(env, 'JWT_SECRET');
  const refresh = fromEnv(env, 'JWT_REFRESH_SECRET');
  if (access) return { accessSecret: access, refreshSecret: refresh ?? Buffer.from(hkdfSync('sha256', access, 'cco', 'refresh-token', 32)).toString('base64url') };
  return {
    accessSecret: loadOrCreateSecret(join(paths.home, 'jwt-secret'), MIN, 'base64url'),
    refreshSecret: refresh ?? loadOrCreateSecret(join(paths.home, 'jwt-refresh-secret'), MIN, 'base64url'),
  };
}

function fromEnv(env: Env, name: 'JWT_SECRET' | 'JWT_REFRESH_SECRET'): string | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  // The value itself is never printed: it is a secret even when it is too short.
  if (v.length < MIN) throw new ConfigError(`${name} is ${v.length} characters; it must be at least ${MIN} (generate one: openssl rand -base64 32)`, name, { key: name });
  return v;
}
