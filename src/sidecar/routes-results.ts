import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { unknownAgentType } from '../agents/unknown-type.js';
import { AppError } from '../core/errors.js';
import { parseInput } from '../server/validate.js';
import { agentTypeSchema, issueIdSchema } from './ids.js';
import { resultInputSchema } from './results.js';
import type { SidecarDeps } from './server.js';
import { assertScope } from './tokens.js';

const issueParams = z.object({ issueId: issueIdSchema });
const issueTypeParams = z.object({ issueId: issueIdSchema, agentType: agentTypeSchema });
const listQuery = z
  .object({
    issue_id: issueIdSchema.optional(),
    agent_type: agentTypeSchema.optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
    offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
  .strict();

/**
 * `POST /api/results` (201 once the file is on disk and the row is committed), `GET
 * /api/results` (list), `GET /api/results/:issueId` and `GET /api/results/:issueId/:agentType`.
 */
export function registerResultRoutes(app: FastifyInstance, deps: SidecarDeps): void {
  app.post('/api/results', async (req, reply) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object') {
      throw new AppError(400, 'invalid_request', 'body: a JSON object {agent_id, agent_type, issue_id, result} is required', { field: 'body' });
    }
    const input = parseInput(resultInputSchema, req.body, 'body');
    assertScope(req.sidecarAgent, input.issue_id);
    if (!deps.catalog.has(input.agent_type)) {
      throw unknownAgentType(deps.catalog, input.agent_type, 'body.agent_type');
    }
    // an agent stores results as itself; only an all-issues token (the orchestrator) may store for others
    if (req.sidecarAgent.issues !== '*' && input.agent_type !== req.sidecarAgent.agentType) {
      throw new AppError(403, 'forbidden', `body.agent_type: this token belongs to a ${req.sidecarAgent.agentType} agent`, { field: 'body.agent_type' });
    }
    // A scoped token is one agent: its result is stored as the token's agent, whatever id the body
    // names (the catalog's prompts suggest "<type>-<issue>"; another agent's id would put this
    // result and its status on that agent). Only an all-issues token stores for others.
    const agentId = req.sidecarAgent.issues === '*' ? input.agent_id : req.sidecarAgent.agentId;
    const stored = await deps.results.save({ ...input, agent_id: agentId });
    deps.context.invalidateIssue(input.issue_id);
    await deps.agents.setStatus(agentId, input.result.status).catch(() => undefined);
    deps.hub.publish('agent_activity', {
      action: 'result_stored',
      agent_id: agentId,
      agent_type: input.agent_type,
      issue_id: input.issue_id,
      status: input.result.status,
      bytes: stored.bytes,
    });
    return reply.status(201).send({
      status: 'stored',
      issue_id: input.issue_id,
      agent_type: input.agent_type,
      agent_id: agentId,
      // epoch ms, as in the lists, the documents and the file
      stored_at: stored.stored_at,
      file: stored.file,
      bytes: stored.bytes,
    });
  });

  app.get('/api/results', async (req) => {
    const q = parseInput(listQuery, req.query, 'query');
    if (q.issue_id) assertScope(req.sidecarAgent, q.issue_id);
    // paged as `/api/tasks` is: `offset` skips the newest, `total` says how many there are
    const { results, total } = await deps.results.list({ issueId: q.issue_id, agentType: q.agent_type, issues: req.sidecarAgent.issues, limit: q.limit, offset: q.offset });
    return { count: results.length, total, results };
  });

  app.get('/api/results/:issueId', async (req) => {
    const p = parseInput(issueParams, req.params, 'params');
    assertScope(req.sidecarAgent, p.issueId);
    const results = await deps.results.forIssue(p.issueId);
    return { issue_id: p.issueId, count: results.length, results };
  });

  app.get('/api/results/:issueId/:agentType', async (req) => {
    const p = parseInput(issueTypeParams, req.params, 'params');
    assertScope(req.sidecarAgent, p.issueId);
    const r = await deps.results.get(p.issueId, p.agentType);
    if (!r) throw new AppError(404, 'not_found', `No result of ${p.agentType} for issue ${p.issueId}`);
    return r;
  });
}
