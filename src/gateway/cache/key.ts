import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Body fields that never change the output and so stay out of the key: per-request metadata
 * (Claude Code puts its session id in `metadata.user_id`) and OpenAI's `user`.
 */
const IGNORED_FIELDS = new Set(['metadata', 'user']);

/**
 * Request headers that do change the output: API version, beta features, and OpenAI's
 * organization and project (which models, fine-tunes and limits the key reaches).
 */
const KEY_HEADERS = ['anthropic-version', 'anthropic-beta', 'openai-beta', 'openai-organization', 'openai-project'] as const;

/**
 * Headers that carry who is asking: the provider credentials the gateway forwards (x-api-key,
 * Authorization, Azure's `api-key`, Google's `x-goog-api-key` ...) and the gateway's own token.
 * Judged by name, so that a provider's credential header the gateway does not know by name still
 * keeps two callers apart.
 */
const CREDENTIAL_NAME = /key|token|secret|auth|credential|password|signature/;

/** Header names judged so far (names repeat from request to request; bounded). */
const judged = new Map<string, boolean>();
function isCredentialName(h: string): boolean {
  let yes = judged.get(h);
  if (yes === undefined) {
    yes = CREDENTIAL_NAME.test(h);
    if (judged.size < 1024) judged.set(h, yes);
  }
  return yes;
}

/** What identifies the caller: every non-empty credential header, by name (undefined: none). */
export function callerCredentials(headers: IncomingHttpHeaders): string | undefined {
  let out = '';
  for (const h in headers) {
    if (!isCredentialName(h)) continue;
    const v = headers[h];
    if (v === undefined || v === '') continue;
    out += `${h}\u0000${Array.isArray(v) ? v.join(',') : v}\u0001`;
  }
  return out || undefined;
}

/**
 * True when a top-level body field is an integer beyond 2^53 (OpenAI's 64-bit `seed`): parsed
 * into a double it is rounded, so two requests that differ there would share a key while the
 * provider sees them apart. Such a request is not cached.
 */
export function hasUnsafeInteger(body: Record<string, unknown>): boolean {
  for (const k in body) {
    const v = body[k];
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return true;
  }
  return false;
}

export interface CacheKey {
  key: string;
  /** What stands for each key field: short values as they are, a digest of long ones (/api/cache/debug says which fields differ). */
  fields: Record<string, string>;
}

/** Values up to this length stand for themselves in `fields` (model, max_tokens, stream, version headers, the route's digest). */
const SHORT = 48;

/** `make(value)`, the same string for the same value, remembered for up to `bound` values. */
function remembered(bound: number, make: (value: string) => string): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    let v = seen.get(value);
    if (v === undefined) {
      v = make(value);
      if (seen.size < bound) seen.set(value, v);
    }
    return v;
  };
}

/**
 * What stands for a field in `fields`, kept by every cached entry: the same string for the same
 * value, so that entries share it (model, max_tokens, stream, version headers, the route, the
 * caller: the same from request to request; a string per entry each cost ~30–60 bytes of every
 * entry's memory). Past the bound, values get strings of their own.
 */
const shortField = remembered(4096, (value) => `=${value}`);
const credentialsDigest = remembered(256, (value) => digest(value));

/** Each field's name as it opens its part of the key text. Quoted: a body field's name could hold the separators and forge another layout. */
const opening = remembered(1024, (name) => `${JSON.stringify(name)}\u0000`);

/**
 * The base64url SHA-256 of `value` (43 characters). Asked for as text: with a Buffer digest, the
 * Buffer's allocation cost three times the hashing of a short value (~1.1 µs against ~0.3 µs a
 * call, four calls per request). Kept whole: a slice would be a V8 sliced string holding the
 * whole encoding alive anyway.
 */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url');
}

/**
 * The exact cache key of a request: endpoint, query string (`?api-version=` picks an Azure
 * OpenAI API version, `?beta=true` Anthropic's beta surface), output-affecting headers, a fingerprint of the
 * caller's credentials (one caller never gets another's cached answer), the route that answers
 * (`target`: provider, upstream URL and model; a routing change, another upstream or another
 * instance's routing on a shared Redis asks someone else) and every body field except the
 * ignored ones — model, messages, system, tools, temperature, max_tokens, stream, unknown fields
 * too (unknown means "might matter").
 *
 * Each field is serialised once and stands in the key for itself when short, else for its
 * SHA-256; the key is the SHA-256 of those. So each byte of a large conversation is hashed once,
 * and the per-field digests /api/cache/debug compares are the same ones (a Claude Code turn
 * carries the whole conversation, often hundreds of KB: hashing it twice, and building one
 * string of everything first, cost more than the rest of the request).
 */
export function cacheKey(endpoint: string, body: Record<string, unknown>, headers: IncomingHttpHeaders, query = '', target?: string): CacheKey {
  const fields: Record<string, string> = {};
  let text = '';
  const add = (name: string, value: string, secret = false) => {
    const v = secret ? credentialsDigest(value) : value.length <= SHORT ? shortField(value) : digest(value);
    fields[name] = v;
    text += opening(name) + v + '\u0001';
  };
  add('endpoint', endpoint);
  if (query.length > 1) add('query', normalQuery(query));
  for (const h of KEY_HEADERS) {
    const v = headers[h];
    if (v !== undefined) add(`header:${h}`, Array.isArray(v) ? v.join(',') : v);
  }
  const cred = callerCredentials(headers);
  if (cred !== undefined) add('credentials', cred, true);
  if (target !== undefined) add('route', target);
  for (const k of Object.keys(body).sort()) {
    if (IGNORED_FIELDS.has(k)) continue;
    const v = body[k];
    if (v === undefined) continue;
    add(`body.${k}`, JSON.stringify(v) ?? 'undefined');
  }
  return { key: digest(text), fields };
}

/** A query string with its parameters in a stable order (`?b=1&a=2` and `?a=2&b=1` ask the same). */
export function normalQuery(query: string): string {
  const params = new URLSearchParams(query);
  params.sort();
  return params.toString();
}

/** Field names whose digests differ between two key field maps (present on one side only counts). */
export function differingFields(a: Record<string, string>, b: Record<string, string>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => a[n] !== b[n]).sort();
}
