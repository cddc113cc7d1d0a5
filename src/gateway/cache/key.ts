import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Body fields that never change the output and so stay out of the key: per-request metadata
 * (Claude Code puts its session id in `metadata.user_id`) and OpenAI's `user`.
 */
const IGNORED_FIELDS = new Set(['metadata', 'user']);

/** Request headers that do change the output (API version, beta features). */
const KEY_HEADERS = ['anthropic-version', 'anthropic-beta', 'openai-beta'] as const;

export interface CacheKey {
  key: string;
  /** A short digest per key field, so /api/cache/debug can say which fields differ. */
  fields: Record<string, string>;
}

// One-shot hashing (no Hash object per call).
const digest = (s: string): string => hash('sha256', s, 'base64url').slice(0, 16);

/**
 * The exact cache key of a request: endpoint, output-affecting headers, a fingerprint of the
 * caller's credentials (one caller never gets another's cached answer) and every body field
 * except the ignored ones — model, messages, system, tools, temperature, max_tokens, stream,
 * unknown fields too (unknown means "might matter").
 */
export function cacheKey(endpoint: string, body: Record<string, unknown>, headers: IncomingHttpHeaders): CacheKey {
  // Serialised once; the key is one hash over all fields, the per-field digests (debug only) are
  // computed when someone asks for them (an entry being stored, /api/cache/debug).
  const names: string[] = ['endpoint'];
  const values: string[] = [endpoint];
  for (const h of KEY_HEADERS) {
    const v = headers[h];
    if (v !== undefined) {
      names.push(`header:${h}`);
      values.push(Array.isArray(v) ? v.join(',') : v);
    }
  }
  const cred = headers['x-api-key'] ?? headers.authorization;
  if (cred !== undefined) {
    names.push('credentials');
    values.push(Array.isArray(cred) ? cred.join(',') : cred);
  }
  for (const k of Object.keys(body).sort()) {
    if (IGNORED_FIELDS.has(k)) continue;
    const v = body[k];
    if (v === undefined) continue;
    names.push(`body.${k}`);
    values.push(JSON.stringify(v) ?? 'undefined');
  }
  let text = '';
  for (let i = 0; i < names.length; i++) text += `${names[i] as string}\u0000${values[i] as string}\u0001`;
  let fields: Record<string, string> | undefined;
  return {
    key: hash('sha256', text, 'base64url').slice(0, 22),
    get fields() {
      if (!fields) {
        fields = {};
        // Short values (model, max_tokens, stream, version headers) are kept as they are: they
        // only need to compare equal. Long ones and the credentials are digested.
        for (let i = 0; i < names.length; i++) {
          const k = names[i] as string;
          const v = values[i] as string;
          fields[k] = v.length <= 24 && k !== 'credentials' ? `=${v}` : digest(v);
        }
      }
      return fields;
    },
  };
}

/** Field names whose digests differ between two key field maps (present on one side only counts). */
export function differingFields(a: Record<string, string>, b: Record<string, string>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => a[n] !== b[n]).sort();
}
