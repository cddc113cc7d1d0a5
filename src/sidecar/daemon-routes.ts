import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AgentCatalog } from '../agents/types.js';
import { unknownAgentType } from '../agents/unknown-type.js';
import { AppError } from '../core/errors.js';
import type { Hub } from '../hub/hub.js';
import { hasValidToken } from '../server/security.js';
import { parseInput } from '../server/validate.js';
import type { AgentsRepo } from './agents-repo.js';
import { agentIdSchema, agentTypeSchema, issueIdSchema } from './ids.js';
import { bearerToken } from './tokens.js';
import type { AgentClaims, AgentTokens } from './tokens.js';

const spawnBody = z
  .object({
    agent_type: agentTypeSchema,
    issue_id: issueIdSchema.optional(),
    issues: z.union([z.literal('*'), z.array(issueIdSchema).min(1).max(100)]).optional(),
    agent_id: agentIdSchema.optional(),
    task: z
      .string()
      .max(20_000)
      .refine((t) => !t.includes('\u0000'), 'must not contain NUL characters')
      .optional(),
    ttl_seconds: z.number().int().min(60).max(7 * 24 * 3600).optional(),
  })
  .strict()
  .refine((b) => b.issue_id !== undefined || b.issues !== undefined, { message: 'issue_id or issues is required', path: ['issue_id'] });

export interface DaemonRouteDeps {
  catalog: AgentCatalog;
  tokens: AgentTokens;
  agents: AgentsRepo;
  hub: Hub;
  accessToken: string;
  host: string;
  daemonPort(): number;
  daemonUrl(): string;
  sidecarUrl(): string | undefined;
}

/**
 * Routes on the daemon (3000) of a running sidecar: `POST /api/agents/spawn` mints an agent token,
 * `GET /api/sidecar/agents` lists the recent agents. (The forwarder to the sidecar is
 * registerSidecarForwarder's, there with the sidecar off too.)
 */
export async function registerDaemonRoutes(app: FastifyInstance, deps: DaemonRouteDeps): Promise<void> {
  app.post('/api/agents/spawn', async (req, reply) => {
    const caller = await spawnCaller(req.headers.authorization, req, deps);
    const body = parseInput(spawnBody, req.body ?? {}, 'body');
    if (!deps.catalog.has(body.agent_type)) {
      throw unknownAgentType(deps.catalog, body.agent_type, 'body.agent_type');
    }
    const issues: string[] | '*' = body.issues === '*' ? '*' : [...new Set([...(body.issue_id ? [body.issue_id] : []), ...(body.issues ?? [])])];
    // an agent may only hand on the scope it has itself
    if (caller && caller.issues !== '*' && (issues === '*' || issues.some((i) => !(caller.issues as string[]).includes(i)))) {
      throw new AppError(403, 'forbidden', 'An agent token can only mint tokens within its own issue scope');
    }
    if (caller && caller.issues !== '*') {
      // A scoped agent may start helpers of its own role; other roles are the orchestrator's to
      // start (results are stored only as the token's own agent type, see routes-results.ts).
      if (body.agent_type !== caller.agentType) {
        throw new AppError(403, 'forbidden', `body.agent_type: a ${caller.agentType} token can only mint tokens for its own agent type; the orchestrator starts other types`, { field: 'body.agent_type' });
      }
      if (body.agent_id !== undefined && body.agent_id !== caller.agentId && (await deps.agents.exists(body.agent_id))) {
        throw new AppError(403, 'forbidden', `body.agent_id: ${body.agent_id} is another agent's id`, { field: 'body.agent_id' });
      }
    }
    let ttlSeconds = body.ttl_seconds;
    if (caller) {
      // a minted token never outlives the agent token that asked for it
      const left = caller.exp - Math.floor(Date.now() / 1000);
      ttlSeconds = Math.max(1, Math.min(ttlSeconds ?? deps.tokens.defaultTtlSeconds, left));
    }
    const agentId = body.agent_id ?? `${body.agent_type}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const { token, claims } = await deps.tokens.mint({ agentId, agentType: body.agent_type, issues, ...(ttlSeconds ? { ttlSeconds } : {}) });
    await deps.agents.register(claims, body.task ?? null);
    deps.hub.publish('agent_activity', { action: 'spawned', agent_id: agentId, agent_type: body.agent_type, issues, by: caller?.agentId ?? 'daemon' });
    const sidecar = deps.sidecarUrl() ?? null;
    return reply.status(201).send({
      agent_id: agentId,
      agent_type: body.agent_type,
      issues,
      token,
      // epoch ms, as `GET /api/sidecar/agents` lists the same agent (and every daemon time is)
      expires_at: claims.exp * 1000,
      sidecar_url: sidecar,
      proxy_url: `${deps.daemonUrl()}/api/orchestration`,
      env: { ORCHESTRATOR_AGENT_ID: agentId, ORCHESTRATOR_AGENT_TYPE: body.agent_type, ORCHESTRATOR_AGENT_TOKEN: token, ORCHESTRATOR_SIDECAR_URL: sidecar ?? '' },
    });
  });

  // the sidecar's agents of the last hours, for the dashboard and TUI after a restart (the live
  // agent_activity messages of before are gone with the old process)
  const recentQuery = z.object({ hours: z.coerce.number().positive().max(24 * 30).default(24), limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict();
  app.get('/api/sidecar/agents', async (req) => {
    const q = parseInput(recentQuery, req.query, 'query');
    return { agents: await deps.agents.recent(Date.now() - q.hours * 3_600_000, q.limit) };
  });
}

/**
 * The sidecar's agent routes (routes-context/results/events.ts) the daemon forwards under their
 * own paths: the seed gives agents ORCHESTRATOR_API_URL = the daemon, and "the daemon (3000)
 * forwards to sidecar (3001)". None of them is a daemon route (its hooks are /api/hooks/*).
 */
export const SIDECAR_AGENT_ROUTES = ['/api/context/*', '/api/results', '/api/results/*', '/api/events', '/api/events/*', '/api/knowledge', '/api/whoami'] as const;

/** Path prefixes the forwarder answers, for the front door's self-authenticated list (the sidecar checks the agent JWT). */
export const SIDECAR_FORWARDED_PREFIXES = ['/api/orchestration/', '/api/context/', '/api/results', '/api/events', '/api/knowledge', '/api/whoami'] as const;

export interface ForwarderDeps {
  /** The sidecar's base URL, undefined while it does not run. */
  sidecarUrl(): string | undefined;
  /** Why it does not run (the 503's message), asked only when sidecarUrl() is undefined. */
  unavailableReason(): string;
  maxBodyBytes: number;
}

/** The 503 reason of a sidecar turned off in daemon.toml. */
export const SIDECAR_DISABLED_REASON = 'The orchestration sidecar is disabled in daemon.toml ([sidecar] enabled = false); set [sidecar] enabled = true and restart the daemon (cco daemon restart)';

/**
 * The daemon's forwarder to the sidecar, registered whether the sidecar runs or not (a 503
 * `sidecar_unavailable` saying why when it does not): `/api/orchestration/<path>` goes to the
 * sidecar's `/api/<path>` (`/health` and `/status` for those two), and the sidecar's agent paths
 * (SIDECAR_AGENT_ROUTES) go on unchanged. Headers (Authorization included), bodies, long-polls
 * and streams pass through.
 */
export async function registerSidecarForwarder(app: FastifyInstance, deps: ForwarderDeps): Promise<void> {
  await app.register(async (scope) => {
    // bodies pass through untouched; the sidecar parses and validates them
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_req, body, done) => done(null, body));
    // the route states the parser's limit too, so that a 413 can say it (server/errors.ts)
    const opts = { bodyLimit: deps.maxBodyBytes };
    scope.all('/api/orchestration/*', opts, async (req, reply) => {
      const path = rawPath(req.url);
      const rest = path.slice(path.indexOf('/api/orchestration/') + '/api/orchestration/'.length);
      return forward(req, reply, deps, rest === 'health' || rest === 'status' ? `/${rest}` : `/api/${rest}`);
    });
    for (const route of SIDECAR_AGENT_ROUTES) scope.all(route, opts, async (req, reply) => forward(req, reply, deps, rawPath(req.url)));
  });
}

/**
 * The path as the client wrote it (still percent-encoded): decoded, `%3F` and `%2F` became a
 * query or another segment, and the request reached another route than on the sidecar.
 */
function rawPath(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

const FORWARDED_REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'last-event-id'];
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'content-length'];

/** Sends the request on to the sidecar's `target` path (query kept) and its answer back. */
async function forward(req: FastifyRequest, reply: FastifyReply, deps: ForwarderDeps, target: string): Promise<FastifyReply> {
  const base = deps.sidecarUrl();
  if (!base) throw new AppError(503, 'sidecar_unavailable', deps.unavailableReason());
  const q = req.url.indexOf('?');
  const qs = q < 0 ? '' : req.url.slice(q);
  const ac = new AbortController();
  reply.raw.once('close', () => ac.abort());
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  let upstream;
  try {
    const { request } = await import('../gateway/upstream/undici.js');
    upstream = await request(`${base}${target}${qs}`, {
      method: req.method as 'GET',
      headers,
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      signal: ac.signal,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (e) {
    if (ac.signal.aborted) return reply;
    throw new AppError(502, 'sidecar_unreachable', `The sidecar did not answer: ${(e as Error).message}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(upstream.headers)) {
    if (typeof v === 'string' && !HOP_BY_HOP.includes(k)) out[k] = v;
  }
  void reply.status(upstream.statusCode).headers(out);
  if (upstream.statusCode === 404 && rawPath(req.url) !== target) {
    return reply.send(await clientsNotFound(upstream.body, req.method, target, rawPath(req.url)));
  }
  return reply.send(upstream.body);
}

/**
 * The sidecar's "No route GET /api/x" names its own path; the client asked for another
 * (`/api/orchestration/x`), so the message names that one. Other 404 bodies (a result that is
 * not stored...) go back as they came.
 */
async function clientsNotFound(body: { text(): Promise<string> }, method: string, target: string, clientPath: string): Promise<string> {
  const text = await body.text();
  const sidecarMessage = `No route ${method} ${target}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error?.code !== 'not_found' || parsed.error.message !== sidecarMessage) return text;
    parsed.error.message = `No route ${method} ${clientPath}`;
    return JSON.stringify(parsed);
  } catch {
    return text;
  }
}

/** Who may mint: the daemon's local access token, or an agent token (then within its scope). */
async function spawnCaller(auth: string | undefined, req: Parameters<typeof hasValidToken>[0], deps: DaemonRouteDeps): Promise<AgentClaims | undefined> {
  if (hasValidToken(req, { host: deps.host, accessToken: deps.accessToken, port: deps.daemonPort })) return undefined;
  if (auth?.startsWith('Bearer ') && auth.split('.').length === 3) return deps.tokens.verify(bearerToken(auth));
  throw new AppError(401, 'unauthorized', 'Minting agent tokens needs the daemon access token (X-CCO-Token) or an agent token (Authorization: Bearer)');
}
