import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, conflict, notFound } from '../core/errors.js';
import { requireAdmin } from '../server/security.js';
import { parseInput } from '../server/validate.js';
import { randomUUID } from 'node:crypto';
import type { UserClaims, UserTokens } from './jwt.js';
import { ROLES } from './jwt.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import type { SessionsRepo } from './sessions-repo.js';
import type { UserRow, UsersRepo } from './users-repo.js';
import { userView } from './users-repo.js';

const email = z.string().trim().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'an email address');
const password = z.string().min(8, 'at least 8 characters').max(1024);
const role = z.enum(ROLES as ['admin', 'user']);
const loginBody = z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(1024) }).strict();
const refreshBody = z.object({ refreshToken: z.string().min(1).max(4096) }).strict();
const logoutBody = z.object({ refreshToken: z.string().min(1).max(4096).optional(), all: z.boolean().default(false) }).strict();
const newUserBody = z.object({ email, password, role: role.default('user') }).strict();
const patchUserBody = z.object({ role: role.optional(), password: password.optional() }).strict();
const userParams = z.object({ id: z.string().regex(/^u_[\w-]{1,64}$/, 'a user id (u_...)') });

export interface AuthDeps {
  users: UsersRepo;
  sessions: SessionsRepo;
  tokens: UserTokens;
}

const invalidRefresh = () => new AppError(401, 'invalid_refresh_token', 'Invalid refresh token');

/**
 * People's accounts (seed 004): login, refresh and verify under `/api/auth/` (they check their own
 * credentials: a password, a refresh token, a bearer token), and the user admin API under
 * `/api/admin/users` (admin role; on loopback a local client is the operator).
 */
export function registerAuthRoutes(app: FastifyInstance, d: AuthDeps): void {
  app.post('/api/auth/login', async (req) => {
    const b = parseInput(loginBody, req.body ?? {}, 'body');
    const u = await d.users.byEmail(b.email);
    // the same work whether or not the email exists: the answer's timing tells nothing
    const ok = await verifyPassword(b.password, u?.password_hash ?? (await decoyHash()));
    if (!u || !ok) {
      req.log.warn({ reason: 'invalid_credentials' }, 'login failed');
      throw new AppError(401, 'invalid_credentials', 'Invalid email or password');
    }
    await d.users.touchLogin(u.id);
    const jti = randomUUID();
    const sid = await d.sessions.open(u.id, jti, d.tokens.refreshExpiresAt());
    const t = await d.tokens.issue({ id: u.id, email: u.email, role: userView(u).role, tokenVersion: Number(u.token_version) }, { sid, jti });
    return { accessToken: t.accessToken, refreshToken: t.refreshToken, tokenType: 'Bearer', expiresIn: t.expiresIn, user: userView(u) };
  });

  // Refresh tokens rotate: each works once and comes back with the next one. An old one that comes
  // back (a copy) ends its session, and every token of it, at once.
  app.post('/api/auth/refresh', async (req) => {
    const b = parseInput(refreshBody, req.body ?? {}, 'body');
    const r = await d.tokens.verifyRefresh(b.refreshToken);
    const u = await d.users.byId(r.userId);
    // a deleted user's refresh token ends with the user; a new password or role ends earlier ones
    if (!u || Number(u.token_version) !== r.ver) throw invalidRefresh();
    const jti = randomUUID();
    const expiresAt = d.tokens.refreshExpiresAt();
    let sid = r.sid;
    if (sid === undefined) {
      // issued before sessions existed: it becomes a session of its own, usable this once
      sid = `legacy-${r.jti}`;
      if (!(await d.sessions.openOnce(sid, u.id, jti, expiresAt))) {
        // used before: the session it started ends, with the tokens it gave
        await d.sessions.revoke(sid);
        throw reused(req, sid);
      }
    } else {
      const outcome = await d.sessions.rotate(sid, u.id, r.jti, jti, expiresAt);
      if (outcome === 'reused') throw reused(req, sid);
      if (outcome === 'revoked') throw new AppError(401, 'session_ended', 'Session ended (logged out); log in again with POST /api/auth/login');
      if (outcome !== 'rotated') throw invalidRefresh();
    }
    const t = await d.tokens.issue({ id: u.id, email: u.email, role: userView(u).role, tokenVersion: Number(u.token_version) }, { sid, jti });
    return { accessToken: t.accessToken, refreshToken: t.refreshToken, tokenType: 'Bearer', expiresIn: t.expiresIn };
  });

  // Ends the session of a refresh token or of the Bearer access token; `all: true` ends every
  // session and token of the user (as a new password does).
  app.post('/api/auth/logout', async (req) => {
    const b = parseInput(logoutBody, req.body ?? {}, 'body');
    let who: { userId: string; sid?: string | undefined; ver: number };
    if (b.refreshToken !== undefined) {
      const r = await d.tokens.verifyRefresh(b.refreshToken);
      who = { userId: r.userId, sid: r.sid ?? `legacy-${r.jti}`, ver: r.ver };
    } else {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Bearer ') || auth.length === 7) throw new AppError(401, 'no_token', 'No token provided: send {"refreshToken": ...} or Authorization: Bearer <accessToken>');
      const c = await d.tokens.verifyAccess(auth.slice(7));
      who = { userId: c.userId, sid: c.sid, ver: c.ver };
    }
    const u = await d.users.byId(who.userId);
    // tokens the user no longer honours log nothing out: the answer is the same as for a valid one
    if (u && Number(u.token_version) === who.ver) {
      // an access token from before sessions existed names no session: it ends every login
      if (b.all || who.sid === undefined) await d.users.endAllTokens(u.id);
      else {
        // a legacy token's session may not exist yet: create it revoked so the token cannot start one
        await d.sessions.openOnce(who.sid, u.id, 'logged-out', d.tokens.refreshExpiresAt());
        await d.sessions.revoke(who.sid);
      }
      req.log.info({ user: u.id, all: b.all }, 'logged out');
    }
    return { loggedOut: true, all: b.all || who.sid === undefined };
  });

  app.get('/api/auth/verify', async (req) => {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ') || auth.length === 7) throw new AppError(401, 'no_token', 'No token provided: send Authorization: Bearer <accessToken from POST /api/auth/login>');
    const c = await d.tokens.verifyAccess(auth.slice(7));
    const u = await currentUser(d, c);
    return { valid: true, user: userView(u), expiresAt: new Date(c.exp * 1000).toISOString() };
  });

  app.get('/api/admin/users', async (req) => {
    requireAdmin(req);
    return { users: (await d.users.list()).map(userView) };
  });

  app.post('/api/admin/users', async (req, reply) => {
    requireAdmin(req);
    const b = parseInput(newUserBody, req.body ?? {}, 'body');
    const u = await d.users.create({ email: b.email, passwordHash: await hashPassword(b.password), role: b.role });
    if (!u) throw conflict(`A user with email ${b.email.trim().toLowerCase()} already exists`);
    req.log.info({ user: u.id, role: u.role }, 'user created');
    return reply.status(201).send(userView(u));
  });

  app.patch('/api/admin/users/:id', async (req) => {
    requireAdmin(req);
    const { id } = parseInput(userParams, req.params, 'params');
    const b = parseInput(patchUserBody, req.body ?? {}, 'body');
    const missing = () => notFound(`No user ${id}; list users with GET /api/admin/users`);
    const passwordHash = b.password ? await hashPassword(b.password) : undefined;
    if (b.role !== undefined) {
      // the last-admin check and the change in one transaction (two admins demoting each other at once)
      const r = await d.users.changeGuardingLastAdmin(id, { role: b.role, passwordHash });
      if (r === 'last_admin') throw conflict('The last admin cannot lose the admin role; make another user admin first');
      if (r === 'not_found') throw missing();
    }
    const u = b.role !== undefined ? await d.users.byId(id) : await d.users.update(id, { passwordHash });
    if (!u) throw missing();
    return userView(u);
  });

  app.delete('/api/admin/users/:id', async (req) => {
    requireAdmin(req);
    const { id } = parseInput(userParams, req.params, 'params');
    const r = await d.users.changeGuardingLastAdmin(id, { remove: true });
    if (r === 'not_found') throw notFound(`No user ${id}; list users with GET /api/admin/users`);
    if (r === 'last_admin') throw conflict('The last admin cannot be deleted; make another user admin first');
    return { deleted: true, id };
  });
}

/**
 * The user a verified access token names, as stored now: 401 when the user was deleted, or their
 * password or role changed since the token was issued (token_version), or its session ended.
 */
export async function currentUser(d: { users: UsersRepo; sessions: SessionsRepo }, c: UserClaims): Promise<UserRow> {
  const u = await d.users.byId(c.userId);
  if (!u || Number(u.token_version) !== c.ver) throw new AppError(401, 'invalid_token', 'Invalid token: the user was removed or changed since it was issued; log in again');
  if (c.sid !== undefined && !(await d.sessions.active(c.sid, u.id))) throw new AppError(401, 'session_ended', 'Session ended (logged out); log in again with POST /api/auth/login');
  return u;
}

function reused(req: { log: { warn: (o: object, m: string) => void } }, sid: string): AppError {
  req.log.warn({ session: sid }, 'a refresh token was used twice: session revoked');
  return new AppError(401, 'refresh_token_reused', 'Refresh token already used: a refresh token works once. This session was ended for safety; log in again with POST /api/auth/login');
}
