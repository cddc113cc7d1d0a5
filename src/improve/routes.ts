import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { parseInput } from '../server/validate.js';
import type { ImproveApi } from './api.js';

const idParam = z.object({ id: z.string().regex(/^cyc_[a-z0-9]+_[0-9a-f]{8}$/, 'a cycle id like cyc_xxx_xxxxxxxx') });
const cyclesQuery = z
  .object({
    status: z.enum(['in_progress', 'completed', 'rolled_back', 'cancelled', 'failed', 'interrupted']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

/** REST over the improvement cycles: `/api/improvement/...`. */
export function registerImproveRoutes(app: FastifyInstance, api: ImproveApi): void {
  // paged as `/api/tasks` is: newest first, `offset` skips, `total` says how many there are
  app.get('/api/improvement/cycles', async (req) => {
    const q = parseInput(cyclesQuery, req.query, 'query');
    const { cycles, total } = await api.page(q);
    return { cycles, total };
  });

  app.post('/api/improvement/cycles', async (req, reply) => {
    const b = parseInput(z.object({ analysis_window_hours: z.number().positive().max(24 * 90).optional(), reason: z.string().max(2000).optional() }).strict(), req.body ?? {}, 'body');
    const cycle = await api.trigger({ by: 'rest', ...(b.analysis_window_hours ? { windowHours: b.analysis_window_hours } : {}), ...(b.reason ? { reason: b.reason } : {}) });
    return reply.status(202).send({ cycle });
  });

  app.get('/api/improvement/cycles/:id', async (req) => {
    const { id } = parseInput(idParam, req.params, 'params');
    const cycle = await api.get(id);
    if (!cycle) throw new AppError(404, 'cycle_not_found', `No improvement cycle ${id}`);
    return { cycle };
  });

  app.post('/api/improvement/cycles/:id/cancel', async (req) => {
    const { id } = parseInput(idParam, req.params, 'params');
    return { cycle: await api.cancel(id, 'rest') };
  });

  app.get('/api/improvement/config-versions', async (req) => {
    const q = parseInput(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(), req.query, 'query');
    return { versions: await api.versions(q.limit) };
  });

  app.get('/api/improvement/config-versions/:id', async (req) => {
    const { id } = parseInput(z.object({ id: z.coerce.number().int().min(1) }), req.params, 'params');
    const v = await api.version(id);
    if (!v) throw new AppError(404, 'version_not_found', `No config version ${id}`);
    return { version: v };
  });

  app.get('/api/improvement/settings', async () => ({ settings: api.settings() }));
}
