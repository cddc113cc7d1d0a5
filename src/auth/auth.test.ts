import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../server/app.js';
import { createMetricsRegistry } from '../server/metrics.js';
import { createLogger } from '../core/logger.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { UserTokens } from './jwt.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const REFRESH_SECRET = 'a-test-refresh-secret-long-enough-9876543210';

interface Res {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function request(t: TestDaemon, method: string, path: string, o: { token?: string; body?: unknown }): Promise<Res> {
  const r = await fetch(`${t.url}${path}`, {
    method,
    headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: r.headers };
}

describe('people: login, tokens, roles, ownership, rate limits (seed 004)', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({
      env: { JWT_SECRET: SECRET, JWT_REFRESH_SECRET: REFRESH_SECRET, CCO_ADMIN_EMAIL: 'Boss@Example.com', CCO_ADMIN_PASSWORD: 'boss-password' },
      config: (c) => ({ ...c, rate_limits: { ...c.rate_limits, per_key_per_minute: 40, login_per_minute: 6 } }),
    });
  });
  afterAll(() => t.cleanup());

  const call = (method: string, path: string, o: { token?: string; body?: unknown } = {}) => request(t, method, path, o);
  const login = async (email: string, password: string) => call('POST', '/api/auth/login', { body: { email, password } });
  const tokens: Record<string, { access: string; refresh: string }> = {};

  it('the first admin comes from CCO_ADMIN_EMAIL; a local client adds users; duplicates and bad input are 4xx naming the field', async () => {
    const created = await call('POST', '/api/admin/users', { body: { email: 'ann@example.com', password: 'ann-password', role: 'user' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'ann@example.com', role: 'user' });
    expect(created.body).not.toHaveProperty('password_hash');
    expect((await call('POST', '/api/admin/users', { body: { email: 'bob@example.com', password: 'bob-password' } })).status).toBe(201);
    expect((await call('POST', '/api/admin/users', { body: { email: 'ANN@example.com', password: 'another-pw' } })).status).toBe(409);
    const short = await call('POST', '/api/admin/users', { body: { email: 'cat@example.com', password: 'short' } });
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ error: { field: 'body.password' } });
    const list = await call('GET', '/api/admin/users');
    expect((list.body.users as { email: string; role: string }[]).map((u) => `${u.email}:${u.role}`)).toEqual(['boss@example.com:admin', 'ann@example.com:user', 'bob@example.com:user']);
  });

  it('login: wrong password is 401 "Invalid email or password"; right one gives access and refresh tokens', async () => {
    const bad = await login('ann@example.com', 'wrong-password');
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_credentials', message: 'Invalid email or password' } });
    expect((await login('nobody@example.com', 'whatever-pw')).status).toBe(401);
    for (const [who, email, pw] of [['admin', 'boss@example.com', 'boss-password'], ['ann', 'Ann@Example.com', 'ann-password'], ['bob', 'bob@example.com', 'bob-password']] as const) {
      const r = await login(email, pw);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, user: { email: email.toLowerCase() } });
      tokens[who] = { access: r.body.accessToken as string, refresh: r.body.refreshToken as string };
    }
  });

  it('verify: valid, none, garbage, forged and expired tokens', async () => {
    const ok = await call('GET', '/api/auth/verify', { token: tokens.ann?.access });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, user: { email: 'ann@example.com', role: 'user' } });
    expect((await call('GET', '/api/auth/verify')).body).toMatchObject({ error: { code: 'no_token', message: expect.stringMatching(/^No token provided/) } });
    expect((await call('GET', '/api/auth/verify', { token: 'eyJhbGciOi.not.valid' })).body).toMatchObject({ error: { message: 'Invalid token' } });
    const forged = await new UserTokens({ accessSecret: 'x'.repeat(40), refreshSecret: 'y'.repeat(40), accessTtlSeconds: 60, refreshTtlSeconds: 600 }).issue({ id: 'u_x', email: 'evil@example.com', role: 'admin' });
    const f = await call('GET', '/api/auth/verify', { token: forged.accessToken });
    expect(f.status).toBe(401);
    expect(f.body).toMatchObject({ error: { message: 'Invalid token' } });
    const expired = await new SignJWT({ email: 'ann@example.com', role: 'user' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('u_whoever')
      .setIssuer('cco')
      .setAudience('cco-user')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(SECRET));
    const e = await call('GET', '/api/auth/verify', { token: expired });
    expect(e.status).toBe(401);
    expect(e.body).toMatchObject({ error: { code: 'token_expired', message: 'Token expired' } });
    // the front door refuses such a token on any route, even on loopback: the client asked as someone
    expect((await call('GET', '/api/tasks', { token: expired })).body).toMatchObject({ error: { message: 'Token expired' } });
  });

  it('refresh: a refresh token gives a new access token; an access token is not a refresh token', async () => {
    const r = await call('POST', '/api/auth/refresh', { body: { refreshToken: tokens.bob?.refresh } });
    expect(r.status).toBe(200);
    expect((await call('GET', '/api/auth/verify', { token: r.body.accessToken as string })).status).toBe(200);
    const wrong = await call('POST', '/api/auth/refresh', { body: { refreshToken: tokens.bob?.access } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: { message: 'Invalid refresh token' } });
    expect((await call('POST', '/api/auth/refresh', { body: {} })).body).toMatchObject({ error: { field: 'body.refreshToken' } });
  });

  it('roles: a user gets 403 "Insufficient permissions" on the admin API, an admin gets the list', async () => {
    const denied = await call('GET', '/api/admin/users', { token: tokens.ann?.access });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { message: expect.stringMatching(/^Insufficient permissions/) } });
    expect((await call('GET', '/api/admin/users', { token: tokens.admin?.access })).status).toBe(200);
    // deny by default: a user reaches only the task routes, not logs, debug views or agent tokens
    for (const [method, path] of [['GET', '/api/logs'], ['GET', '/api/debug/requests'], ['POST', '/api/launcher/session'], ['POST', '/api/cache/clear'], ['GET', '/api/status']] as const) {
      const r = await call(method, path, { token: tokens.ann?.access, ...(method === 'POST' ? { body: {} } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    expect((await call('GET', '/api/logs', { token: tokens.admin?.access })).status).toBe(200);
    expect((await call('GET', '/api/agents', { token: tokens.ann?.access })).status).toBe(200);
    const boss = ((await call('GET', '/api/admin/users')).body.users as { id: string; email: string }[]).find((u) => u.email === 'boss@example.com');
    expect((await call('DELETE', `/api/admin/users/${boss?.id}`)).status).toBe(409); // the last admin stays
  });

  it('ownership: a user sees and cancels only their own tasks; admins and local clients see all', async () => {
    const sub = await call('POST', '/api/requirements', { token: tokens.ann?.access, body: { requirement: 'a landing page for a bakery with opening hours', priority: 5 } });
    expect(sub.status).toBe(202);
    const id = sub.body.task_id as string;
    expect((await call('GET', `/api/tasks/${id}`, { token: tokens.ann?.access })).body).toMatchObject({ id, created_by: expect.stringMatching(/^u_/) });
    const other = await call('GET', `/api/tasks/${id}`, { token: tokens.bob?.access });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ error: { code: 'access_denied', message: expect.stringMatching(/^Access denied/) } });
    expect((await call('POST', `/api/tasks/${id}/cancel`, { token: tokens.bob?.access })).status).toBe(403);
    // a retry, as a cancel: the owner's (a running task is not retryable: 409), nobody else's
    expect((await call('POST', `/api/tasks/${id}/retry`, { token: tokens.bob?.access })).status).toBe(403);
    expect([409, 202]).toContain((await call('POST', `/api/tasks/${id}/retry`, { token: tokens.ann?.access })).status);
    const bobList = await call('GET', '/api/tasks', { token: tokens.bob?.access });
    expect((bobList.body.tasks as { id: string }[]).map((x) => x.id)).not.toContain(id);
    expect(((await call('GET', '/api/tasks', { token: tokens.ann?.access })).body.tasks as { id: string }[]).map((x) => x.id)).toContain(id);
    expect((await call('GET', `/api/tasks/${id}`, { token: tokens.admin?.access })).status).toBe(200);
    expect((await call('GET', `/api/tasks/${id}`)).status).toBe(200);
  });

  it('rate limits: per key for a user token (429 with retry-after), never for local clients; login attempts per address', async () => {
    let limited: Res | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await call('GET', '/api/tasks', { token: tokens.bob?.access });
      if (r.status === 429) limited = r;
    }
    expect(limited?.body).toMatchObject({ error: { code: 'rate_limited', details: { limit: 40 } } });
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    // another key, and the machine's own clients, are not affected
    expect((await call('GET', '/api/tasks', { token: tokens.ann?.access })).status).toBe(200);
    for (let i = 0; i < 50; i++) expect((await call('GET', '/api/tasks')).status).toBe(200);

    const attempts: number[] = [];
    for (let i = 0; i < 8; i++) attempts.push((await login('ann@example.com', 'guess-number-' + i)).status);
    expect(attempts.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(attempts.slice(-2)).toEqual([429, 429]);
    // counted per address and account: guesses at ann do not lock bob out
    expect((await login('bob@example.com', 'bob-password')).status).toBe(200);
  });

  it('a new password or role ends the tokens issued before; a deleted user’s tokens end with the user', async () => {
    const made = await call('POST', '/api/admin/users', { body: { email: 'dan@example.com', password: 'dan-password' } });
    const id = made.body.id as string;
    const first = await login('dan@example.com', 'dan-password');
    const old = { access: first.body.accessToken as string, refresh: first.body.refreshToken as string };
    expect((await call('GET', '/api/tasks', { token: old.access })).status).toBe(200);
    expect((await call('PATCH', `/api/admin/users/${id}`, { body: { password: 'dan-new-password' } })).status).toBe(200);
    expect((await call('GET', '/api/tasks', { token: old.access })).body).toMatchObject({ error: { code: 'invalid_token' } });
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: old.refresh } })).status).toBe(401);
    const again = await login('dan@example.com', 'dan-new-password');
    expect(again.status).toBe(200);
    expect((await call('DELETE', `/api/admin/users/${id}`)).status).toBe(200);
    expect((await call('GET', '/api/auth/verify', { token: again.body.accessToken as string })).status).toBe(401);
  });
});

describe('sessions: refresh tokens rotate, logout', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ env: { JWT_SECRET: SECRET, JWT_REFRESH_SECRET: REFRESH_SECRET }, config: (c) => ({ ...c, rate_limits: { ...c.rate_limits, login_per_minute: 100 } }) });
    for (const who of ['ann', 'bob']) {
      const r = await fetch(`${t.url}/api/admin/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `${who}@example.com`, password: `${who}-password` }) });
      if (r.status !== 201) throw new Error(`could not create ${who}: ${r.status}`);
    }
  });
  afterAll(() => t.cleanup());
  const call = (method: string, path: string, o: { token?: string; body?: unknown } = {}) => request(t, method, path, o);
  const login = async (email: string, password: string) => call('POST', '/api/auth/login', { body: { email, password } });

  it('refresh tokens rotate: each works once; an old one coming back ends its session and every token of it', async () => {
    const other = await login('bob@example.com', 'bob-password');
    const s = await login('bob@example.com', 'bob-password');
    const first = { access: s.body.accessToken as string, refresh: s.body.refreshToken as string };
    const r1 = await call('POST', '/api/auth/refresh', { body: { refreshToken: first.refresh } });
    expect(r1.status).toBe(200);
    const second = { access: r1.body.accessToken as string, refresh: r1.body.refreshToken as string };
    expect(second.refresh).not.toBe(first.refresh);
    // the session goes on: its earlier access token still works
    expect((await call('GET', '/api/tasks', { token: first.access })).status).toBe(200);
    // the first refresh token again (a copy): refused, and the whole session ends
    const replay = await call('POST', '/api/auth/refresh', { body: { refreshToken: first.refresh } });
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: { code: 'refresh_token_reused', message: expect.stringMatching(/^Refresh token already used/) } });
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: second.refresh } })).body).toMatchObject({ error: { code: 'session_ended' } });
    for (const token of [first.access, second.access]) expect((await call('GET', '/api/tasks', { token })).body).toMatchObject({ error: { code: 'session_ended' } });
    // other logins of the same user are not touched
    expect((await call('GET', '/api/tasks', { token: other.body.accessToken as string })).status).toBe(200);

    // two refreshes with one token at once: one wins, the other ends the session
    const t = await login('bob@example.com', 'bob-password');
    const both = await Promise.all([0, 1].map(() => call('POST', '/api/auth/refresh', { body: { refreshToken: t.body.refreshToken } })));
    expect(both.map((b) => b.status).sort()).toEqual([200, 401]);
  });

  it('logout ends a session (by refresh token or by access token); all: true ends every session of the user', async () => {
    const a = await login('ann@example.com', 'ann-password');
    const b = await login('ann@example.com', 'ann-password');
    const out = await call('POST', '/api/auth/logout', { body: { refreshToken: a.body.refreshToken } });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ loggedOut: true, all: false });
    expect((await call('GET', '/api/auth/verify', { token: a.body.accessToken as string })).body).toMatchObject({ error: { code: 'session_ended' } });
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: a.body.refreshToken } })).status).toBe(401);
    expect((await call('GET', '/api/auth/verify', { token: b.body.accessToken as string })).status).toBe(200);
    // by access token
    expect((await call('POST', '/api/auth/logout', { token: b.body.accessToken as string, body: {} })).status).toBe(200);
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: b.body.refreshToken } })).status).toBe(401);
    // everywhere
    const c = await login('ann@example.com', 'ann-password');
    const d2 = await login('ann@example.com', 'ann-password');
    expect((await call('POST', '/api/auth/logout', { body: { refreshToken: c.body.refreshToken, all: true } })).body).toEqual({ loggedOut: true, all: true });
    expect((await call('GET', '/api/auth/verify', { token: d2.body.accessToken as string })).status).toBe(401);
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: d2.body.refreshToken } })).status).toBe(401);
    // bad input names the field; no token at all is 401
    expect((await call('POST', '/api/auth/logout', { body: { all: 'yes' } })).body).toMatchObject({ error: { field: 'body.all' } });
    expect((await call('POST', '/api/auth/logout', { body: {} })).body).toMatchObject({ error: { code: 'no_token' } });
  });

  it('tokens issued before sessions existed: a refresh token works once, a reuse ends what it started, a logout ends every login', async () => {
    const bob = ((await call('GET', '/api/admin/users')).body.users as { id: string; email: string }[]).find((u) => u.email === 'bob@example.com');
    const legacyToken = (sub: string, jti: string) =>
      new SignJWT({ ver: 0 }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setJti(jti).setIssuer('cco').setAudience('cco-refresh').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(REFRESH_SECRET));
    const legacy = await legacyToken(bob?.id as string, 'legacy-test-jti');
    // a copy used first (a thief), then by its owner: the owner's use ends what the copy started
    const once = await call('POST', '/api/auth/refresh', { body: { refreshToken: legacy } });
    expect(once.status).toBe(200);
    expect((await call('GET', '/api/auth/verify', { token: once.body.accessToken as string })).status).toBe(200);
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: legacy } })).body).toMatchObject({ error: { code: 'refresh_token_reused' } });
    expect((await call('GET', '/api/auth/verify', { token: once.body.accessToken as string })).body).toMatchObject({ error: { code: 'session_ended' } });
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: once.body.refreshToken } })).status).toBe(401);

    // several refreshes of one such token at once: one wins, the others are refused (no 500)
    const racing = await legacyToken(bob?.id as string, 'legacy-race-jti');
    const all = await Promise.all([0, 1, 2].map(() => call('POST', '/api/auth/refresh', { body: { refreshToken: racing } })));
    expect(all.map((r) => r.status).sort()).toEqual([200, 401, 401]);

    // logging out with an access token that names no session ends every login of the user
    const before = await login('bob@example.com', 'bob-password');
    const oldAccess = await new SignJWT({ email: 'bob@example.com', role: 'user', ver: 0 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(bob?.id as string)
      .setIssuer('cco')
      .setAudience('cco-user')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect((await call('POST', '/api/auth/logout', { token: oldAccess, body: {} })).body).toEqual({ loggedOut: true, all: true });
    expect((await call('GET', '/api/auth/verify', { token: oldAccess })).status).toBe(401);
    expect((await call('GET', '/api/auth/verify', { token: before.body.accessToken as string })).status).toBe(401);
  });

});

describe('secrets and team mode', () => {
  it('a JWT_SECRET shorter than 32 characters stops the daemon with the fix, without printing it', async () => {
    const err = await startTestDaemon({ env: { JWT_SECRET: 'short-secret' } }).then(
      async (d) => {
        await d.cleanup();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/JWT_SECRET is 12 characters; it must be at least 32 \(generate one: openssl rand -base64 32\)/);
    expect(err?.message).not.toContain('short-secret');
  });

  it('beyond loopback a user token is a credential; without one every route but /health is 401', async () => {
    const { logger } = createLogger({ level: 'silent' });
    const users = new UserTokens({ accessSecret: SECRET, refreshSecret: SECRET + 'r', accessTtlSeconds: 60, refreshTtlSeconds: 600 });
    const app = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '0.0.0.0', accessToken: 'local-access-token-123', port: () => 3000, users } });
    app.get('/api/whoami', async (req) => req.principal);
    const { accessToken } = await users.issue({ id: 'u_boss', email: 'boss@example.com', role: 'admin' });
    const ask = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/api/whoami', headers: { host: '10.0.0.5:3000', ...headers } });
    expect((await ask({})).statusCode).toBe(401);
    expect((await ask({ authorization: `Bearer ${accessToken}` })).json()).toMatchObject({ kind: 'user', userId: 'u_boss', role: 'admin' });
    // a plain user reaches only the routes made for users
    const plain = await users.issue({ id: 'u_ann', email: 'ann@example.com', role: 'user' });
    expect((await ask({ authorization: `Bearer ${plain.accessToken}` })).statusCode).toBe(403);
    expect((await ask({ 'x-cco-token': 'local-access-token-123' })).json()).toMatchObject({ kind: 'token', id: 'local' });
    await app.close();
  });
});
