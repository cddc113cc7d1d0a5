import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Logger } from '../core/logger.js';
import { requestedTenant, tenantDeniedBody, unauthorizedBody } from './auth.js';
import type { KeyTable } from './auth.js';
import type { Principal } from './deps.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  principal: Principal;
  lastSeen: number;
}

export interface McpHttpOptions {
  keys: KeyTable;
  /** A fresh MCP server for a new session of `principal`. */
  newServer(principal: Principal): Promise<McpServer>;
  maxSessions: number;
  idleMs: number;
  logger: Logger;
}

/** Sets a request header in both views Node keeps (the SDK's adapter reads `rawHeaders`). */
function setHeader(raw: IncomingMessage, name: string, value: string): void {
  raw.headers[name] = value;
  const rh = raw.rawHeaders;
  for (let i = rh.length - 2; i >= 0; i -= 2) if (rh[i]?.toLowerCase() === name) rh.splice(i, 2);
  rh.push(name, value);
}

const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

/** The SDK's HTTP transport loads on the first /mcp request, not at daemon start. */
let sdk: Promise<{ Transport: typeof StreamableHTTPServerTransport; isInitializeRequest: (v: unknown) => boolean }> | undefined;
const loadSdk = () =>
  (sdk ??= Promise.all([import('@modelcontextprotocol/sdk/server/streamableHttp.js'), import('@modelcontextprotocol/sdk/types.js')]).then(([t, types]) => ({
    Transport: t.StreamableHTTPServerTransport,
    isInitializeRequest: types.isInitializeRequest,
  })));

/**
 * `/mcp` over Streamable HTTP (POST, GET for the server's SSE stream, DELETE to end a session).
 * Each request is authenticated by its bearer key before the SDK sees it; a session stays bound to
 * the tenant that opened it. Host and Origin (DNS rebinding) are checked by the daemon's front door.
 */
export function registerMcpHttp(app: FastifyInstance, o: McpHttpOptions): { sessions(): number; close(): Promise<void> } {
  const sessions = new Map<string, Session>();

  const drop = async (id: string): Promise<void> => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.server.close().catch(() => undefined);
  };

  const sweep = setInterval(() => {
    const cutoff = Date.now() - o.idleMs;
    for (const [id, s] of sessions) if (s.lastSeen < cutoff) void drop(id);
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
        await reply.status(404).send(rpcError(-32001, 'Session not found; initialize a new session'));
        return;
      }
      if (session.principal.tenant !== p.tenant) {
        await reply.status(403).send(tenantDeniedBody(session.principal.tenant, p.tenant));
        return;
      }
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      session = await open(p);
    } else if (req.method === 'POST') {
      await oneShot(p, req, reply);
      return;
    } else {
      await reply.status(400).send(rpcError(-32000, 'Bad Request: no valid Mcp-Session-Id header; send initialize first'));
      return;
    }
    session.lastSeen = Date.now();
    reply.hijack();
    try {
      await session.transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (e) {
      o.logger.warn({ err: (e as Error).message }, 'mcp request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(rpcError(-32603, 'Internal error')));
    }
  };

  /**
   * A POST without a session that is not `initialize`: the seed's one-line curl
   * (`{"method":"tools/call",...}` with only a bearer header). Served statelessly by a server of its
   * own with a plain JSON reply; a missing Accept or a form Content-Type (curl -d) is read as JSON.
   */
  async function oneShot(principal: Principal, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const accept = req.headers.accept ?? '';
    if (!/application\/json/.test(accept) || !/text\/event-stream/.test(accept)) setHeader(req.raw, 'accept', 'application/json, text/event-stream');
    setHeader(req.raw, 'content-type', 'application/json');
    const { Transport } = await loadSdk();
    const server = await o.newServer(principal);
    const transport = new Transport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    reply.raw.once('close', () => void server.close().catch(() => undefined));
    reply.hijack();
    try {
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (e) {
      o.logger.warn({ err: (e as Error).message }, 'mcp request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(rpcError(-32603, 'Internal error')));
    }
  }

  async function open(principal: Principal): Promise<Session> {
    if (sessions.size >= o.maxSessions) {
      const oldest = [...sessions.entries()].sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0];
      if (oldest) await drop(oldest[0]);
    }
    const { Transport } = await loadSdk();
    const server = await o.newServer(principal);
    const s: Session = { server, principal, lastSeen: Date.now(), transport: undefined as unknown as StreamableHTTPServerTransport };
    s.transport = new Transport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, s);
        o.logger.debug({ tenant: principal.tenant, key: principal.keyId }, 'mcp session opened');
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    s.transport.onclose = () => {
      if (s.transport.sessionId) sessions.delete(s.transport.sessionId);
    };
    await server.connect(s.transport);
    return s;
  }

  // `curl -d '{...}'` sends a form Content-Type: the app reads such bodies as JSON (installJsonBodies).
  app.route({ method: ['POST', 'GET', 'DELETE'], url: '/mcp', bodyLimit: 4 * 1024 * 1024, handler });

  return {
    sessions: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map(drop));
    },
  };
}
