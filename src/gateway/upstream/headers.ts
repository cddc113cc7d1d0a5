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
  const clientKey = clientCredential(inbound);
  const key = o.apiKey ?? clientKey;
  if (key !== undefined) {
    if (o.format === 'anthropic') {
      // Claude Code logged in with OAuth sends a Bearer token; keep that form when passing through.
      if (o.apiKey === undefined && typeof inbound.authorization === 'string' && inbound['x-api-key'] === undefined && o.clientFormat === 'anthropic') {
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
