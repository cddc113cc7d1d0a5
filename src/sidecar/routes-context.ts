import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { unknownAgentType } from '../agents/unknown-type.js';
import { parseInput, parseQuery } from '../server/validate.js';
import { agentTypeSchema, issueIdSchema } from './ids.js';
import type { SidecarDeps } from './server.js';
import { assertScope } from './tokens.js';

const contextParams = z.object({ issueId: issueIdSchema, agentType: agentTypeSchema });
// not .strict(): a hot route, its keys are checked by parseQuery
const contextQuery = z.object({ q: z.string().max(4000).optional(), root: z.string().max(4096).optional() });
const contextKeys = new Set(Object.keys(contextQuery.shape));
const knowledgeQuery = z
  .object({
    q: z.string().min(1, 'is required').max(1000),
    agent_type: agentTypeSchema.optional(),
    issue_id: issueIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(20),
  })
  .strict();

/** Context for an agent, the knowledge broker, and who-am-I. */
export function registerContextRoutes(app: FastifyInstance, deps: SidecarDeps): void {
  app.get('/api/context/:issueId/:agentType', async (req, reply) => {
    const p = parseInput(contextParams, req.params, 'params');
    const q = parseQuery(contextQuery, contextKeys, req.query);
    assertScope(req.sidecarAgent, p.issueId);
    const agent = deps.catalog.get(p.agentType);
    if (!agent) throw unknownAgentType(deps.catalog, p.agentType, 'params.agentType', 404);
    const root = deps.roots.resolve(q.root);
    const { json, hit } = await deps.context.get({ root, issueId: p.issueId, agent, q: q.q, issues: req.sidecarAgent.issues });
    return reply.header('content-type', 'application/json; charset=utf-8').header('x-cco-context-cache', hit ? 'hit' : 'miss').send(json);
  });

  app.get('/api/knowledge', async (req) => {
    const q = parseInput(knowledgeQuery, req.query, 'query');
    if (q.issue_id) assertScope(req.sidecarAgent, q.issue_id);
    const issues = q.issue_id ? [q.issue_id] : req.sidecarAgent.issues;
    const hits = await deps.knowledge.search({ q: q.q, agentType: q.agent_type, issues, limit: q.limit });
    return { query: q.q, count: hits.length, results: hits };
  });

  app.get('/api/whoami', async (req) => ({
    agent_id: req.sidecarAgent.agentId,
    agent_type: req.sidecarAgent.agentType,
    issues: req.sidecarAgent.issues,
    // epoch ms, as `POST /api/agents/spawn` and `GET /api/sidecar/agents` give it
    expires_at: req.sidecarAgent.exp * 1000,
  }));
}
