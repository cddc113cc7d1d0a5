import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../server/validate.js';
import { cacheKey } from '../cache/key.js';
import type { ResponseCache } from '../cache/response-cache.js';

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

  app.post('/api/cache/debug', async (req) => {
    const b = parseInput(debugBody, req.body ?? {}, 'body');
    const headers = Object.fromEntries(Object.entries(b.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const query = b.query ? (b.query.startsWith('?') ? b.query : `?${b.query}`) : '';
    const model = typeof b.request.model === 'string' ? b.request.model : '';
    const debug = (endpoint: 'messages' | 'chat_completions') =>
      cache.debug(cacheKey(`${endpoint === 'messages' ? 'anthropic' : 'openai'}:${endpoint}`, b.request, headers, query, target(model)));
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
