import type { ServerResponse } from 'node:http';
import type { CachedResponse } from '../cache/types.js';

/** Upstream headers that describe one upstream call and must not be replayed as if fresh. */
const STALE = new Set(['request-id', 'x-request-id', 'cf-ray', 'date', 'set-cookie']);

/** Writes a cached answer: the same bytes (a stream replays as the same SSE stream), marked HIT. */
export async function replayCached(hit: CachedResponse, res: ServerResponse, onBytes: (n: number) => void, ours: { requestId: string; provider: string }): Promise<void> {
  const h: Record<string, string> = {};
  for (const k in hit.headers) if (!STALE.has(k) && !k.startsWith('anthropic-ratelimit') && !k.startsWith('x-ratelimit')) h[k] = hit.headers[k] as string;
  h['x-cco-cache'] = 'HIT';
  // this request's own id, and the provider whose answer it is (as on every answer)
  h['x-cco-request-id'] = ours.requestId;
  h['x-cco-provider'] = ours.provider;
  h['content-length'] = String(hit.body.length);
  res.writeHead(hit.status, h);
  res.end(hit.body);
  onBytes(hit.body.length);
}
