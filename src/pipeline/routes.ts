import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInput } from '../server/validate.js';
import { listQuery, taskParams } from './schemas.js';
import type { PipelineApi } from './api.js';
import type { Requester } from './types.js';

/** A logged-in person (user token); local clients and API keys are not requesters and see all tasks. */
function requester(req: FastifyRequest): Requester | undefined {
  const p = req.principal;
  return p?.kind === 'user' ? { userId: p.userId, admin: p.role === 'admin' } : undefined;
}

/**
 * The seed's orchestrator API on the daemon:
 * `POST /api/requirements`, `GET /api/tasks`, `GET /api/tasks/:id`,
 * `POST /api/tasks/:id/cancel`, `POST /api/tasks/:id/retry`, `GET /api/agents`. Thin: validate, call the API, shape.
 */
export function registerPipelineRoutes(app: FastifyInstance, api: PipelineApi): void {
  app.post('/api/requirements', async (req, reply) => {
    const created = await api.submit(req.body, requester(req));
    return reply.status(202).send(created);
  });

  app.get('/api/tasks', async (req) => api.listTasks(parseInput(listQuery, req.query ?? {}, 'query'), requester(req)));

  app.get('/api/tasks/:id', async (req) => {
    const { id } = parseInput(taskParams, req.params, 'params');
    return api.getTaskOrThrow(id, requester(req));
  });

  app.post('/api/tasks/:id/cancel', async (req) => {
    const { id } = parseInput(taskParams, req.params, 'params');
    return api.cancel(id, requester(req));
  });

  app.post('/api/tasks/:id/retry', async (req, reply) => {
    const { id } = parseInput(taskParams, req.params, 'params');
    return reply.status(202).send(await api.retry(id, requester(req)));
  });

  app.get('/api/agents', async () => ({ agents: await api.listAgents() }));
}
