import type { FastifyInstance } from 'fastify';
import { parseInput } from '../server/validate.js';
import { listQuery, taskParams } from './schemas.js';
import type { PipelineApi } from './api.js';

/**
 * The seed's orchestrator API on the daemon:
 * `POST /api/requirements`, `GET /api/tasks`, `GET /api/tasks/:id`,
 * `POST /api/tasks/:id/cancel`, `GET /api/agents`. Thin: validate, call the API, shape.
 */
export function registerPipelineRoutes(app: FastifyInstance, api: PipelineApi): void {
  app.post('/api/requirements', async (req, reply) => {
    const created = await api.submit(req.body);
    return reply.status(202).send(created);
  });

  app.get('/api/tasks', async (req) => api.listTasks(parseInput(listQuery, req.query ?? {}, 'query')));

  app.get('/api/tasks/:id', async (req) => {
    const { id } = parseInput(taskParams, req.params, 'params');
    return api.getTaskOrThrow(id);
  });

  app.post('/api/tasks/:id/cancel', async (req) => {
    const { id } = parseInput(taskParams, req.params, 'params');
    return api.cancel(id);
  });

  app.get('/api/agents', async () => ({ agents: await api.listAgents() }));
}
