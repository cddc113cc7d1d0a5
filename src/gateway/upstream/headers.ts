import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderFormat } from '../routing/schema.js';

/** Never forwarded: hop-by-hop headers, our own, and the daemon's credentials. */
const DROP_REQUEST = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'accept-encoding',
  'cookie',
  'origin',
  'referer',
  'x-cco-token',
  'expect',
  'http2-settings',
]);

// Besides the hop-by-hop ones: what describes the provider's edge, not the answer (a Cloudflare
// cookie or an alt-svc for the provider's host would be set for the gateway's origin instead).
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'date', 'server', 'set-cookie', 'alt-svc']);

/** Header the gateway stamps on outgoing requests; seeing its own id come back means a loop. */
export const HOP_HEADER = 'x-cco-gateway-hop';

export interface OutgoingHeaderOptions {
  /** Format of the upstream: decides how a configured key is sent and which headers make sense. */
  format: ProviderFormat;
  /** Format the client spoke (differs on a translating route). */
  clientFormat: ProviderFormat;
  /** Configured key for the route; undefined passes the client's own credentials through. */
  apiKey: string | undefined;
  /** Gateway hop ids seen so far plus ours. */
  hop: string;
  /** false: the client's own credential is not sent (see clientKeyPolicy). */
  passClientKey?: boolean;
}

/**
 * The headers sent upstream: the client's headers (all `anthropic-*`, Claude Code's session
 * headers, user agent ...) minus hop-by-hop ones, with credentials either the route's key or
 * the client's own, converted between x-api-key and Bearer when the formats differ.
 */
export function outgoingHeaders(inbound: IncomingHttpHeaders, o: OutgoingHeaderOptions): Record<string, string> {
  const out: Record<string, string> = {};
  const translating = o.format !== o.clientFormat;
  // Credentials are decided below; skipping them here (rather than deleting afterwards) keeps
  // `out` a fast-properties object for undici to iterate.
  for (const k in inbound) {
    const v = inbound[k];
    if (v === undefined || k === 'x-api-key' || k === 'authorization' || DROP_REQUEST.has(k) || k.startsWith('x-cco-')) continue;
    if (translating && (k.startsWith('anthropic-') || k.startsWith('openai-'))) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  out['accept-encoding'] = 'identity';
  out[HOP_HEADER] = o.hop;
  const clientKey = o.passClientKey === false ? undefined : clientCredential(inbound);
  const key = o.apiKey ?? clientKey;
  if (key !== undefined) {
    if (o.format === 'anthropic') {
      // Claude Code logged in with OAuth sends a Bearer token; keep that form when passing through.
      if (o.apiKey === undefined && clientKey !== undefined && typeof inbound.authorization === 'string' && inbound['x-api-key'] === undefined && o.clientFormat === 'anthropic') {
        out.authorization = inbound.authorization;
      } else out['x-api-key'] = key;
    } else out.authorization = `Bearer ${key}`;
  }
  if (o.format === 'anthropic' && !out['anthropic-version']) out['anthropic-version'] = '2023-06-01';
  out['content-type'] ??= 'application/json';
  return out;
}

/** The credential a client presented (x-api-key, or the token of Authorization: Bearer). */
export function clientCredential(h: IncomingHttpHeaders): string | undefined {
  const x = h['x-api-key'];
  if (typeof x === 'string' && x) return x;
  const a = h.authorization;
  if (typeof a === 'string' && /^bearer\s+/i.test(a)) return a.replace(/^bearer\s+/i, '');
  return undefined;
}

/** Upstream response headers fit to relay (request ids, rate-limit info, content type). */
export function relayHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // headers the upstream's Connection names are hop-by-hop too (RFC 9110 7.6.1)
  const named = typeof h.connection === 'string' ? h.connection.toLowerCase().split(',').map((x) => x.trim()) : [];
  for (const k in h) {
    const v = h[k];
    if (v === undefined || DROP_RESPONSE.has(k) || (named.length > 0 && named.includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/** Key prefixes that say whose a credential is. */
const KEY_OWNERS: [RegExp, string][] = [
  [/^sk-ant-/, 'anthropic'],
  [/^sk-(?:proj|svcacct|admin)-/, 'openai'],
  [/^AIza/, 'google'],
];
/** Providers known by their API host; a host not listed is judged by its wire format. */
const PROVIDER_HOSTS: Record<string, string> = {
  'api.anthropic.com': 'anthropic',
  'api.openai.com': 'openai',
  'generativelanguage.googleapis.com': 'google',
  'api.deepseek.com': 'deepseek',
  'openrouter.ai': 'openrouter',
  'api.x.ai': 'xai',
  'api.groq.com': 'groq',
  'api.mistral.ai': 'mistral',
  'api.together.xyz': 'together',
};

/** Whose key a client's credential is, when its prefix says so ('anthropic', 'openai', 'google'). */
export function credentialOwner(key: string): string | undefined {
  return KEY_OWNERS.find(([re]) => re.test(key))?.[1];
}

/**
 * What to do with a client's own credential on a route with no key configured: a key that names
 * its provider (an Anthropic `sk-ant-…`, an OpenAI `sk-proj-…`, a Google `AIza…`) goes to that
 * provider only. Without this, a route to another provider sent, say, the pipeline's Anthropic key
 * to OpenAI as a Bearer token. Another known provider's API: `refuse` (it would answer 401 anyway,
 * after seeing the key). An upstream of unknown host (Ollama, vLLM, a company proxy): the key of
 * its own wire format passes, another is left out (`drop`: a local model needs none).
 */
export function clientKeyPolicy(key: string, upstream: { origin: string; format: ProviderFormat }): 'pass' | 'drop' | 'refuse' {
  const owner = credentialOwner(key);
  if (owner === undefined) return 'pass';
  let host = '';
  try {
    host = new URL(upstream.origin).hostname;
  } catch {
    // not a URL: judged by format below
  }
  const family = PROVIDER_HOSTS[host];
  if (family !== undefined) return family === owner ? 'pass' : 'refuse';
  return (owner === 'anthropic') === (upstream.format === 'anthropic') ? 'pass' : 'drop';
}
