import { isIPv4 } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';

export interface SecurityOptions {
  /** The address the daemon is bound to. */
  host: string;
  /** The daemon's local access token (0600 in the runtime directory). */
  accessToken: string;
  /** The port actually listened on, for the dashboard's own origin. */
  port(): number;
  /** Extra API keys accepted when bound beyond loopback (team mode). */
  apiKeys?: readonly string[];
  /** Route prefixes that check their own credentials (gateway keys, agent JWTs, MCP keys). */
  selfAuthenticated?: readonly string[];
  /**
   * People's access tokens (`Authorization: Bearer <JWT>` from `POST /api/auth/login`): undefined
   * for a JWT that is not a user token (an agent's), a 401 for a user token that does not verify.
   */
  users?: { resolve(token: string): Promise<{ userId: string; email: string; role: 'admin' | 'user' } | undefined> };
}

/**
 * Who is asking, as the front door found out (`req.principal`):
 * - `local`: a client on this machine with no credentials (curl, Claude Code's hooks): the
 *   machine's owner, as the seeds' commands assume;
 * - `token`: the daemon's access token or a team API key (programs, the dashboard);
 * - `user`: a person logged in with a user token, with a role.
 * Routes that check their own credentials (`selfAuthenticated`) have none.
 */
export type Principal = { kind: 'local' } | { kind: 'token'; id: string } | { kind: 'user'; userId: string; email: string; role: 'admin' | 'user' };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** `Authorization: Bearer <x>` where x looks like a JWT (API keys and the local token do not). */
function bearerJwt(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Bearer eyJ')) return undefined;
  const t = auth.slice(7);
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(t) ? t : undefined;
}

/**
 * What a person with the `user` role may call: submit requirements and follow their own tasks.
 * Everything else (logs, diagnostics, debug views, cache and routing admin, agent tokens, the
 * sidecar's data...) needs the admin role: deny by default.
 */
const USER_ROUTES = new Set(['POST /api/requirements', 'GET /api/tasks', 'GET /api/tasks/:id', 'POST /api/tasks/:id/cancel', 'POST /api/tasks/:id/retry', 'GET /api/agents', 'GET /health', 'GET /api/health']);

/** Admin routes: people need the admin role; local clients and tokens are the operator. */
export function requireAdmin(req: FastifyRequest): void {
  const p = req.principal;
  if (!p) throw new AppError(401, 'unauthorized', 'Authentication required');
  if (p.kind === 'user' && p.role !== 'admin') throw new AppError(403, 'forbidden', 'Insufficient permissions: this route needs the admin role');
}

export const TOKEN_HEADER = 'x-cco-token';
export const TOKEN_COOKIE = 'cco_token';

/**
 * The dashboard cookie of the daemon on `port` (`cco_token_3000`): cookies are kept per host, not
 * per port, so two daemons' dashboards in one browser overwrote each other's `cco_token`.
 */
export function tokenCookieName(port: number | undefined): string {
  return port ? `${TOKEN_COOKIE}_${port}` : TOKEN_COOKIE;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  // an address of 127.0.0.0/8 itself, not any name that starts like one (`127.attacker.example`
  // in a Host header is DNS rebinding)
  return LOOPBACK_HOSTS.has(host) || (isIPv4(host) && host.startsWith('127.'));
}

/** The host name of a Host header, without the port. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const i = header.indexOf(':');
  return i < 0 ? header : header.slice(0, i);
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The local access token a request presents: header, `?token=` or the dashboard cookie. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const h = req.headers[TOKEN_HEADER];
  if (typeof h === 'string' && h) return h;
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string' && q) return q;
  const cookie = req.headers.cookie;
  if (cookie) {
    // this daemon's own cookie first: a browser sends every 127.0.0.1 cookie to every port
    const own = tokenCookieName(req.socket?.localPort);
    let legacy: string | undefined;
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      // a value that is no URI encoding (`%zz`) is no token: read as missing (it was a 500)
      if (k === own) return decodedOrUndefined(v.join('='));
      if (k === TOKEN_COOKIE) legacy = decodedOrUndefined(v.join('='));
    }
    if (legacy !== undefined) return legacy;
  }
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return undefined;
}

function decodedOrUndefined(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export function hasValidToken(req: FastifyRequest, opts: SecurityOptions): boolean {
  return tokenPrincipal(req, opts) !== undefined;
}

/** The local access token is the operator (`local`); a team API key is named by a digest of itself. */
function tokenPrincipal(req: FastifyRequest, opts: SecurityOptions): Principal | undefined {
  const t = presentedToken(req);
  if (!t) return undefined;
  if (safeEqual(t, opts.accessToken)) return { kind: 'token', id: 'local' };
  return (opts.apiKeys ?? []).some((k) => safeEqual(t, k)) ? { kind: 'token', id: `key:${createHash('sha256').update(t).digest('hex').slice(0, 16)}` } : undefined;
}

/**
 * The daemon's front door.
 * - On loopback: the Host header must name this machine (DNS rebinding is refused); requests
 *   without an Origin (curl, Claude Code, SDKs) pass as the seeds' commands expect; a request
 *   from a browser (Origin present) must come from the dashboard's own origin and carry the
 *   local access token. WebSocket upgrades always need the token.
 * - Beyond loopback (team mode): every route but /health needs the token or an API key,
 *   except routes that check their own credentials.
 */
export function installSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const loopback = isLoopback(opts.host);
  app.decorateRequest('principal', null);
  // The routes that take WebSockets (/ws, the dashboard's terminal): an upgrade anywhere else was
  // accepted and closed at once (1005, no reason); it is an HTTP 404 naming /ws instead.
  const socketRoutes = new Set<string>();
  app.addHook('onRoute', (r) => {
    if ((r as { websocket?: boolean }).websocket || (r as { wsHandler?: unknown }).wsHandler) socketRoutes.add(r.url);
  });
  app.addHook('onRequest', async (req, reply) => {
    const isUpgrade = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (!isUpgrade) return admit(req, reply, false);
    try {
      await admit(req, reply, true);
      if (!socketRoutes.has(req.routeOptions.url ?? '')) {
        throw new AppError(404, 'not_found', `No WebSocket endpoint at ${req.url.split('?')[0]}: the live updates are at /ws (ws://${req.headers.host ?? `127.0.0.1:${opts.port()}`}/ws?token=...)`);
      }
    } catch (e) {
      // the guides look for refused WebSockets in the log
      req.log.warn({ path: req.url.split('?')[0], origin: req.headers.origin, code: (e as AppError).code }, `WebSocket connection refused: ${(e as Error).message}`);
      // A refused upgrade's socket is not tracked by the HTTP server, so it would stay open
      // (half-closed once the client leaves) and keep server.close waiting: close it once the
      // refusal is written, whatever the reason (host, origin, token).
      void reply.header('connection', 'close');
      reply.raw.once('finish', () => req.raw.socket?.destroy());
      throw e;
    }
  });
  const admit = async (req: FastifyRequest, reply: FastifyReply, isUpgrade: boolean): Promise<void> => {
    const path = req.url.split('?')[0] ?? '/';
    if (loopback) {
      const h = hostName(req.headers.host);
      // Not relaxed for a reverse proxy's Host: on loopback a request without credentials is the
      // machine's owner, so a proxy passing other machines' requests in as local ones would give
      // them the owner's rights (and the owner's provider keys through /v1).
      if (!isLoopback(h)) {
        throw new AppError(
          403,
          'host_not_allowed',
          `Host ${h || '(none)'} is not allowed: a daemon bound to loopback answers only under its own address (http://127.0.0.1:${opts.port()}), which keeps web pages from reaching it. Behind a reverse proxy (nginx's proxy_set_header Host $host), run it in team mode instead — [daemon] host = "0.0.0.0" with CCO_ACCESS_TOKEN (docs/team.md) — where every request needs credentials`,
        );
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const port = opts.port();
      const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
      // Beyond loopback the dashboard is opened by the team's name for this server: its page is
      // same-origin with the Host it was served under. (Every route there still wants a
      // credential, which a page of another site does not have.)
      const host = req.headers.host;
      const sameHost = !loopback && host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
      if (!own.includes(origin) && !sameHost) {
        // Not CORS for everyone on purpose: a page of any site could otherwise drive this daemon
        // (its agents, its files, its keys) from the user's browser.
        throw new AppError(403, 'origin_not_allowed', `Origin ${origin} is not allowed: browsers may call this daemon only from its own dashboard (http://127.0.0.1:${port}; open it with \`cco dashboard\`). Call the API from a server, a script or curl instead, which send no Origin`);
      }
      // A CORS preflight never carries credentials (browsers send none with it): answered by the
      // OPTIONS route below, with headers only; the request that follows must carry the token.
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) return;
      if (!hasValidToken(req, opts) && !isDashboardAsset(path)) {
        throw new AppError(401, 'unauthorized', 'The dashboard access token is missing or wrong; open the dashboard with `cco dashboard`');
      }
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    }
    if (isUpgrade && !hasValidToken(req, opts)) {
      throw new AppError(401, 'unauthorized', 'WebSocket connections need the access token (?token=...); open the dashboard with `cco dashboard`');
    }
    if (isSelfAuthenticated(path, opts)) return;
    const token = tokenPrincipal(req, opts);
    if (token) {
      req.principal = token;
      return;
    }
    const jwt = opts.users ? bearerJwt(req) : undefined;
    // A person's token that does not verify is refused even on loopback: they asked as someone.
    const u = jwt && opts.users ? await opts.users.resolve(jwt) : undefined;
    if (u) {
      req.principal = { kind: 'user', userId: u.userId, email: u.email, role: u.role };
      const route = `${req.method === 'HEAD' ? 'GET' : req.method} ${req.routeOptions.url ?? path}`;
      if (u.role !== 'admin' && !USER_ROUTES.has(route)) throw new AppError(403, 'forbidden', `Insufficient permissions: ${route} needs the admin role`);
      return;
    }
    if (loopback) {
      req.principal = { kind: 'local' };
      return;
    }
    // the health checks (load balancers, the seeds' curl) send no credentials: status only, no
    // data. A dashboard sign-in link (`/?code=`, one-time, from `cco dashboard`) is its own
    // credential: the dashboard checks it (it was refused here in team mode, every time).
    const signIn = req.method === 'GET' && (path === '/' || path === '/index.html') && typeof (req.query as Record<string, unknown> | undefined)?.code === 'string';
    if (path !== '/health' && path !== '/api/health' && !signIn) {
      throw new AppError(401, 'unauthorized', 'Credentials required: send X-CCO-Token, Authorization: Bearer <api key>, or a user token from POST /api/auth/login');
    }
  };
  // CORS preflight from the dashboard's own origin only.
  app.options('/*', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin) return reply.status(404).send();
    return reply
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', 'GET,POST,PUT,PATCH,DELETE,OPTIONS')
      .header('access-control-allow-headers', `content-type,${TOKEN_HEADER}`)
      .status(204)
      .send();
  });
}

function isSelfAuthenticated(path: string, opts: SecurityOptions): boolean {
  return (opts.selfAuthenticated ?? []).some((p) => path.startsWith(p));
}

/** The dashboard's static files carry no data; the page itself then authenticates. */
function isDashboardAsset(path: string): boolean {
  return path === '/' || path.startsWith('/assets/') || path === '/favicon.ico' || path === '/index.html' || path === '/styles.css' || path === '/script.js';
}
