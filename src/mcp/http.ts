import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Logger } from '../core/logger.js';
import { MCP_BODY_LIMIT } from './limits.js';
import { requestedTenant, tenantDeniedBody, unauthorizedBody } from './auth.js';
import type { KeyTable } from './auth.js';
import type { Principal } from './deps.js';
import { bodyError, invalidToolCall, requestIds, RPC, rpcError } from './rpc-errors.js';
import { SessionTable } from './sessions.js';
import { PROJECT_ROOT_HEADER } from './claude-mcp-config.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  principal: Principal;
  lastSeen: number;
  /** Requests running on it (a call, an open GET stream): such a session is not idle. */
  busy: number;
}

export interface McpHttpOptions {
  keys: KeyTable;
  /** A fresh MCP server for a new session of `principal`. */
  newServer(principal: Principal): Promise<McpServer>;
  maxSessions: number;
  /** Sessions one tenant keeps at most; beyond, its own least recently used is closed. */
  maxSessionsPerTenant: number;
  idleMs: number;
  logger: Logger;
}

/** Largest POST body accepted on /mcp. */
const BODY_LIMIT = MCP_BODY_LIMIT;

/** Sets a request header in both views Node keeps (the SDK's adapter reads `rawHeaders`). */
function setHeader(raw: IncomingMessage, name: string, value: string): void {
  raw.headers[name] = value;
  const rh = raw.rawHeaders;
  for (let i = rh.length - 2; i >= 0; i -= 2) if (rh[i]?.toLowerCase() === name) rh.splice(i, 2);
  rh.push(name, value);
}

/**
 * The caller with the folder its session works in, when it names one (`x-cco-project-root`,
 * percent-encoded: Claude Code under `cco` sends it). The MCP config is shared by every launch:
 * without it, get_context answered with the project the daemon first started in.
 */
function withProjectRoot(p: Principal, req: FastifyRequest): Principal {
  const v = req.headers[PROJECT_ROOT_HEADER];
  if (typeof v !== 'string' || !v) return p;
  try {
    return { ...p, projectRoot: decodeURIComponent(v) };
  } catch {
    return p;
  }
}

/** The SDK's HTTP transport loads on the first /mcp request, not at daemon start. */
let sdk: Promise<{ Transport: typeof StreamableHTTPServerTransport; isInitializeRequest: (v: unknown) => boolean }> | undefined;
const loadSdk = () =>
  (sdk ??= Promise.all([import('@modelcontextprotocol/sdk/server/streamableHttp.js'), import('@modelcontextprotocol/sdk/types.js')]).then(([t, types]) => ({
    Transport: t.StreamableHTTPServerTransport,
    isInitializeRequest: types.isInitializeRequest,
  })));

/**
 * A client that goes away mid-call (its HTTP response closes before the answer) cancels the
 * call, as if it had sent `notifications/cancelled`: the handler's signal aborts and a sidecar
 * long-poll behind it is released instead of waiting out its own timeout.
 */
function cancelOnDisconnect(reply: FastifyReply, transport: StreamableHTTPServerTransport, body: unknown): void {
  const ids = requestIds(body);
  if (ids.length === 0) return;
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished) return;
    for (const requestId of ids) transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'the client disconnected' } });
  });
}

/**
 * `/mcp` over Streamable HTTP (POST, GET for the server's SSE stream, DELETE to end a session).
 * Each request is authenticated by its bearer key before the SDK sees it; a session stays bound to
 * the tenant that opened it. Host and Origin (DNS rebinding) are checked by the daemon's front door.
 */
export function registerMcpHttp(app: FastifyInstance, o: McpHttpOptions): { sessions(): number; close(): Promise<void> } {
  const sessions = new SessionTable<Session>({ perTenant: o.maxSessionsPerTenant, total: o.maxSessions });

  const closeSession = async (s: Session): Promise<void> => {
    await s.server.close().catch(() => undefined);
  };
  const drop = async (id: string): Promise<void> => {
    const s = sessions.get(id);
    if (!s || !sessions.delete(id)) return;
    await closeSession(s);
  };

  const sweep = setInterval(() => {
    const cutoff = Date.now() - o.idleMs;
    // a session holding a call or its event stream open is in use, however long ago it began
    for (const [id, s] of sessions.entries()) if (s.busy === 0 && s.lastSeen < cutoff) void drop(id);
  }, Math.min(60_000, o.idleMs));
  sweep.unref();

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = o.keys.resolve(req.headers.authorization);
    if (!auth.ok) {
      await reply.status(401).header('www-authenticate', 'Bearer realm="cco-mcp"').send(unauthorizedBody(auth.reason));
      return;
    }
    const p = auth.principal;
    const asked = requestedTenant(req.headers, req.url);
    if (asked !== undefined && asked !== p.tenant) {
      await reply.status(403).send(tenantDeniedBody(asked, p.tenant));
      return;
    }
    const { isInitializeRequest } = await loadSdk();
    const sid = req.headers['mcp-session-id'];
    let session: Session | undefined;
    if (typeof sid === 'string' && sid) {
      session = sessions.get(sid);
      if (!session) {
        await reply.status(404).send(rpcError(RPC.sessionNotFound, 'Session not found; initialize a new session'));
        return;
      }
      if (session.principal.tenant !== p.tenant) {
        await reply.status(403).send(tenantDeniedBody(session.principal.tenant, p.tenant));
        return;
      }
      // a session acts with the rights of the key that opened it: another key of the tenant (a
      // viewer's, a narrower scope) presenting its id would have borrowed them
      if (session.principal.keyId !== p.keyId) {
        await reply.status(403).send(rpcError(-32000, 'Forbidden: this session was opened with another key; initialize a session of your own'));
        return;
      }
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      // the folder is kept for the session, as its tenant is
      session = await open(withProjectRoot(p, req));
    } else if (req.method === 'POST') {
      await oneShot(withProjectRoot(p, req), req, reply);
      return;
    } else {
      await reply.status(400).send(rpcError(-32000, 'Bad Request: no valid Mcp-Session-Id header; send initialize first'));
      return;
    }
    session.lastSeen = Date.now();
    const used = session;
    used.busy++;
    reply.raw.once('close', () => {
      used.busy--;
      used.lastSeen = Date.now();
    });
    if (await refusedParams(req, reply)) return;
    cancelOnDisconnect(reply, session.transport, req.body);
    reply.hijack();
    try {
      await session.transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (e) {
      o.logger.warn({ err: (e as Error).message }, 'mcp request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(rpcError(RPC.internalError, 'Internal error')));
    }
  };

  /** A `tools/call` with missing or non-object params: answered here with one sentence (-32602). */
  async function refusedParams(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    if (req.method !== 'POST') return false;
    const refused = invalidToolCall(req.body);
    if (refused) await reply.status(200).header('content-type', 'application/json').send(refused);
    return refused !== undefined;
  }

  /**
   * A POST without a session that is not `initialize`: the seed's one-line curl
   * (`{"method":"tools/call",...}` with only a bearer header). Served statelessly by a server of its
   * own with a plain JSON reply; a missing Accept or a form Content-Type (curl -d) is read as JSON.
   */
  async function oneShot(principal: Principal, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (await refusedParams(req, reply)) return;
    const accept = req.headers.accept ?? '';
    if (!/application\/json/.test(accept) || !/text\/event-stream/.test(accept)) setHeader(req.raw, 'accept', 'application/json, text/event-stream');
    setHeader(req.raw, 'content-type', 'application/json');
    const { Transport } = await loadSdk();
    const server = await o.newServer(principal);
    const transport = new Transport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    // closing the server aborts its handlers, so a disconnect mid-call also releases their work
    reply.raw.once('close', () => void server.close().catch(() => undefined));
    reply.hijack();
    try {
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (e) {
      o.logger.warn({ err: (e as Error).message }, 'mcp request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(rpcError(RPC.internalError, 'Internal error')));
    }
  }

  async function open(principal: Principal): Promise<Session> {
    const { Transport } = await loadSdk();
    const server = await o.newServer(principal);
    const s: Session = { server, principal, lastSeen: Date.now(), busy: 0, transport: undefined as unknown as StreamableHTTPServerTransport };
    s.transport = new Transport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        // the caps apply once the session exists, so concurrent initializes cannot overshoot them
        const evicted = sessions.add(id, s);
        for (const old of evicted) void closeSession(old);
        o.logger.debug({ tenant: principal.tenant, key: principal.keyId, evicted: evicted.length }, 'mcp session opened');
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    s.transport.onclose = () => {
      if (s.transport.sessionId && sessions.get(s.transport.sessionId) === s) sessions.delete(s.transport.sessionId);
    };
    await server.connect(s.transport);
    return s;
  }

  // `curl -d '{...}'` sends a form Content-Type: the app reads such bodies as JSON (installJsonBodies).
  // A body that cannot be read is answered in JSON-RPC (-32700), which MCP clients understand.
  app.route({
    method: ['POST', 'GET', 'DELETE'],
    url: '/mcp',
    bodyLimit: BODY_LIMIT,
    handler,
    errorHandler(err, req, reply) {
      const { status, body } = bodyError(err, BODY_LIMIT);
      if (status >= 500) o.logger.warn({ err: err.message }, 'mcp request failed');
      else req.log.debug({ code: err.code }, 'mcp body refused');
      void reply.status(status).send(body);
    },
  });

  return {
    sessions: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all(sessions.ids().map(drop));
    },
  };
}
