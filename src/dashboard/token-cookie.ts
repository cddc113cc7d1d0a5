import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { presentedToken, tokenCookieName } from '../server/security.js';
import type { LoginCodes } from './login-codes.js';

/** Constant-time comparison of a presented token with the daemon's. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when the request carries the daemon's local access token (header, query, cookie). */
export function requestHasToken(req: FastifyRequest, accessToken: string): boolean {
  return tokenMatches(presentedToken(req), accessToken);
}

/**
 * The cookie the dashboard runs on. HttpOnly keeps the token away from page scripts,
 * SameSite=Strict keeps other sites from riding on it; a session cookie, so closing the
 * browser forgets it (`cco dashboard` opens a new one).
 */
export function tokenCookie(token: string, port?: number): string {
  return `${tokenCookieName(port)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * `GET /?code=...` (a one-time code of `cco dashboard`, see login-codes.ts) or `GET /?token=...`:
 * a right one becomes the cookie and the browser is sent to `/` so the
 * token leaves the address bar (and history); a wrong one is refused. Returns true when it
 * answered the request.
 */
export function handleTokenLogin(req: FastifyRequest, reply: FastifyReply, accessToken: string, codes?: LoginCodes): boolean {
  const query = req.query as Record<string, unknown> | undefined;
  const code = query?.code;
  if (code !== undefined && codes) {
    if (typeof code === 'string' && codes.redeem(code)) signIn(req, reply, accessToken);
    else refuse(reply, 'Sign-in link used or expired', 'Each link of <code>cco dashboard</code> signs in once, within 5 minutes. Run <code>cco dashboard</code> again for a fresh one.');
    return true;
  }
  const q = query?.token;
  if (q === undefined) return false;
  if (typeof q === 'string' && tokenMatches(q, accessToken)) signIn(req, reply, accessToken);
  else refuse(reply, 'Access token refused', 'The dashboard access token in this link is wrong or out of date. Open the dashboard with <code>cco dashboard</code> to get a fresh link.');
  return true;
}

/** The cookie set, and the browser sent on to `/` (the code or token leaves the address bar). */
function signIn(req: FastifyRequest, reply: FastifyReply, accessToken: string): void {
  void reply.header('set-cookie', tokenCookie(accessToken, req.socket?.localPort)).header('cache-control', 'no-store').redirect('/', 302);
}

function refuse(reply: FastifyReply, title: string, body: string): void {
  void reply.status(401).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(title, body));
}

/** A tiny self-contained HTML page (no external resources) for errors before the SPA loads. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>CCO — ${title}</title><style>body{font:15px system-ui,sans-serif;background:#0f1419;color:#d8dee9;margin:4rem auto;max-width:40rem}code{background:#1c2430;padding:.1rem .3rem;border-radius:3px}</style><h1>${title}</h1><p>${body}</p></html>`;
}
