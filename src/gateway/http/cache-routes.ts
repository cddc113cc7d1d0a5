import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../server/validate.js';
import { cacheKey } from '../cache/key.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { V1_BODY_LIMIT } from './v1-routes.js';

const debugBody = z
  .object({
    /** The request body as the client would send it. */
    request: z.record(z.string(), z.unknown()),
    endpoint: z.enum(['messages', 'chat_completions']).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    /** The query string the client sends (`?beta=true`), if any. */
    query: z.string().max(2000).optional(),
  })
  .strict();

/** Key fields that come from the request's headers, not its body. */
const fromHeaders = (field: string): boolean => field === 'credentials' || field.startsWith('header:');

/**
 * A debug answer whose nearest entry differs only in header fields while no `headers` were
 * given: the cached request had them (Claude Code sends its key and `anthropic-version`), so the
 * reason says to pass them.
 */
function withHeadersHint<T extends { reason: string; nearest: { differingFields: string[] } | null }>(answer: T, headersGiven: boolean): T {
  const differing = answer.nearest?.differingFields ?? [];
  if (headersGiven || differing.length === 0 || !differing.every(fromHeaders)) return answer;
  return {
    ...answer,
    reason: `${answer.reason}. Only headers differ and none were given: the key includes the caller's credentials and version headers, so pass the client's too, e.g. {"request": {...}, "headers": {"x-api-key": "<your key>", "anthropic-version": "2023-06-01"}} (OpenAI clients: {"authorization": "Bearer <your key>"})`,
  };
}

/**
 * `/api/cache/*`: stats, clear, top items and why a request would miss. `target`: the route that
 * would answer a model, as the cache key names it (`routeTarget`).
 */
export function registerCacheRoutes(app: FastifyInstance, cache: ResponseCache, target: (model: string) => string): void {
  app.get('/api/cache/stats', async () => cache.stats());

  app.post('/api/cache/clear', async () => cache.clear());

  app.get('/api/cache/top-items', async (req) => {
    const q = parseInput(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) }).strict(), req.query, 'query');
    return cache.topItems(q.limit);
  });

  // the body is a whole request as a client sends it: /v1's limit, not the API's 1 MB (long Claude Code sessions are larger)
  app.post('/api/cache/debug', { bodyLimit: V1_BODY_LIMIT }, async (req) => {
    const b = parseInput(debugBody, req.body ?? {}, 'body');
    const headers = Object.fromEntries(Object.entries(b.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const query = b.query ? (b.query.startsWith('?') ? b.query : `?${b.query}`) : '';
    const model = typeof b.request.model === 'string' ? b.request.model : '';
    const debug = async (endpoint: 'messages' | 'chat_completions') =>
      withHeadersHint(await cache.debug(cacheKey(`${endpoint === 'messages' ? 'anthropic' : 'openai'}:${endpoint}`, b.request, headers, query, target(model))), b.headers !== undefined);
    if (b.endpoint) return { endpoint: b.endpoint, ...(await debug(b.endpoint)) };
    // Without `endpoint`, the request is checked as either API's (both take messages and
    // max_tokens); the answer is the one that would hit, else the likelier one.
    const guess = Array.isArray(b.request.messages) && typeof b.request.max_tokens === 'number' && !('n' in b.request) ? 'messages' : 'chat_completions';
    const first = await debug(guess);
    if (first.wouldHit || !first.enabled) return { endpoint: guess, ...first };
    const other = guess === 'messages' ? 'chat_completions' : 'messages';
    const second = await debug(other);
    return second.wouldHit ? { endpoint: other, ...second } : { endpoint: guess, ...first };
  });
}
