import { createHash, timingSafeEqual } from 'node:crypto';
import type { McpConfig } from '../config/sections/mcp.js';
import type { Principal } from './deps.js';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: 'missing_key' | 'invalid_key' };

/** The seed's error bodies: `{"error": {"code": 401, "message": "Unauthorized: Invalid or missing API key"}}`. */
export const unauthorizedBody = (reason: 'missing_key' | 'invalid_key') => ({
  error: {
    code: 401,
    message: `Unauthorized: Invalid or missing API key (${reason === 'missing_key' ? 'no Authorization: Bearer header' : 'the key is not known'}; send Authorization: Bearer <key>: a key of [mcp] keys in daemon.toml, or the daemon's access token for the local tenant)`,
    reason,
  },
});
export const tenantDeniedBody = (asked: string, own: string) => ({
  error: { code: 403, message: 'Tenant access denied', detail: `this key belongs to tenant ${own}, not ${asked}` },
});

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The environment variable the seed's guides send as the bearer key
 * (`curl -H "Authorization: Bearer ${SELF_BUILDING_MCP_API_KEY}" .../mcp`). Set in the daemon's
 * environment, it is one more key of the local tenant (admin); `cco mcp` sends it too.
 */
export const SEED_KEY_ENV = 'SELF_BUILDING_MCP_API_KEY';
/** As for configured keys: a shorter key is too easy to guess. */
const MIN_KEY_LENGTH = 16;

/**
 * The MCP API keys: the daemon's local access token and `SELF_BUILDING_MCP_API_KEY` (tenant
 * `local_tenant`, admin) plus the configured keys. Keys are compared as SHA-256 digests in
 * constant time; none is ever logged.
 */
export class KeyTable {
  private readonly keys: { digest: Buffer; principal: Principal }[] = [];
  /** Configured keys whose environment variable is unset (reported in health). */
  readonly unresolved: string[] = [];

  constructor(cfg: McpConfig, accessToken: string, env: Record<string, string | undefined>) {
    this.keys.push({ digest: digest(accessToken), principal: { tenant: cfg.local_tenant, admin: true, issues: '*', keyId: 'local' } });
    const seedKey = env[SEED_KEY_ENV];
    if (seedKey && seedKey.length >= MIN_KEY_LENGTH) this.keys.push({ digest: digest(seedKey), principal: { tenant: cfg.local_tenant, admin: true, issues: '*', keyId: `env:${SEED_KEY_ENV}` } });
    else if (seedKey) this.unresolved.push(`${cfg.local_tenant} (${SEED_KEY_ENV} shorter than ${MIN_KEY_LENGTH} characters)`);
    cfg.keys.forEach((k, i) => {
      const value = k.key ?? (k.key_env ? env[k.key_env] : undefined);
      if (!value) {
        this.unresolved.push(`${k.tenant} (${k.key_env ?? 'key'} unset)`);
        return;
      }
      this.keys.push({ digest: digest(value), principal: { tenant: k.tenant, admin: k.admin, issues: k.issues, keyId: `key:${i}` } });
    });
  }

  /** Resolves an `Authorization` header. */
  resolve(header: string | undefined): AuthResult {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m?.[1]) return { ok: false, reason: 'missing_key' };
    const d = digest(m[1]);
    let found: Principal | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) found ??= k.principal;
    return found ? { ok: true, principal: found } : { ok: false, reason: 'invalid_key' };
  }

  get size(): number {
    return this.keys.length;
  }
}

/** The tenant a request names (`X-Tenant-ID` header or `?tenant=`), if any. */
export function requestedTenant(headers: Record<string, string | string[] | undefined>, url: string): string | undefined {
  const h = headers['x-tenant-id'] ?? headers['x-cco-tenant'];
  if (typeof h === 'string' && h) return h;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('tenant') ?? undefined;
}
