import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import WebSocket from 'ws';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { terminalRefusal } from './terminal.js';
import { tokenCookie, tokenMatches } from './token-cookie.js';

function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('error', () => undefined);
  });
}

describe('dashboard module (real daemon in process, terminal off)', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(async () => t?.cleanup());

  it('turns a right ?token= into an HttpOnly SameSite=Strict cookie and redirects to /', async () => {
    const r = await fetch(`${t.url}/?token=${encodeURIComponent(t.token)}`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie') ?? '';
    // named after the daemon's port: two daemons' dashboards in one browser keep their own
    expect(cookie).toContain(`cco_token_${new URL(t.url).port}=${encodeURIComponent(t.token)}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('signs in with a one-time code that `cco dashboard` gets with the token: the link carries no lasting credential', async () => {
    expect((await fetch(`${t.url}/api/dashboard/login-code`, { method: 'POST' })).status).toBe(401);
    const issued = await fetch(`${t.url}/api/dashboard/login-code`, { method: 'POST', headers: { 'x-cco-token': t.token } });
    expect(issued.status).toBe(200);
    const { code, path, expires_in_s } = (await issued.json()) as { code: string; path: string; expires_in_s: number };
    expect(path).toBe(`/?code=${code}`);
    expect(path).not.toContain(t.token);
    expect(expires_in_s).toBe(300);
    const r = await fetch(`${t.url}${path}`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('set-cookie') ?? '').toContain(`cco_token_${new URL(t.url).port}=${encodeURIComponent(t.token)}`);
    // good once
    const again = await fetch(`${t.url}${path}`, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('cco dashboard');
  });

  it("reads its own port's cookie first: another daemon's cco_token on 127.0.0.1 does not lock it out", async () => {
    const port = new URL(t.url).port;
    const both = `cco_token_1=wrong-token-of-another-daemon; cco_token=also-wrong; cco_token_${port}=${encodeURIComponent(t.token)}`;
    const s = (await (await fetch(`${t.url}/api/dashboard/session`, { headers: { cookie: both } })).json()) as { authenticated: boolean };
    expect(s.authenticated).toBe(true);
  });

  it('serves the built assets with long-lived caching and ETags, and nothing outside them', async () => {
    const cookie = `cco_token=${encodeURIComponent(t.token)}`;
    const index = await (await fetch(`${t.url}/`, { headers: { cookie } })).text();
    const asset = /\/assets\/[\w.-]+\.js/.exec(index)?.[0];
    expect(asset).toBeDefined();
    const r = await fetch(`${t.url}${asset}`, { headers: { cookie } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    expect(r.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
    expect((await r.text()).length).toBeGreaterThan(1000);
    const etag = r.headers.get('etag') as string;
    expect(etag).toBeTruthy();
    // fetch() adds cache-control: no-cache to conditional requests, so ask with undici's request.
    const again = await request(`${t.url}${asset}`, { headers: { cookie, 'if-none-match': etag } });
    await again.body.dump();
    expect(again.statusCode).toBe(304);
    for (const bad of ['/assets/..%2F..%2Fpackage.json', '/assets/.hidden', '/assets/missing.js', '/assets/sub/dir.js']) {
      const b = await fetch(`${t.url}${bad}`, { headers: { cookie } });
      expect(b.status, bad).toBe(404);
      expect(await b.text()).not.toContain('"name": "cco"');
    }
  });

  it("answers the seed's asset check (GET /styles.css, GET /script.js) with the page's own stylesheet and script", async () => {
    const index = await (await fetch(`${t.url}/index.html`, { headers: { cookie: `cco_token=${encodeURIComponent(t.token)}` } })).text();
    for (const [path, type, asset] of [['/styles.css', /text\/css/, /\/assets\/[\w.-]+\.css/], ['/script.js', /javascript/, /\/assets\/[\w.-]+\.js/]] as const) {
      // as the guide's curl asks: no cookie, no token
      const r = await fetch(`${t.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toMatch(type);
      const same = await (await fetch(`${t.url}${asset.exec(index)?.[0] ?? ''}`)).text();
      expect(await r.text()).toBe(same);
    }
  });

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const r = await fetch(`${t.url}/?token=wrong`, { redirect: 'manual' });
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(await r.text()).toContain('cco dashboard');
  });

  it('tells the page whether it is signed in, which routes exist and whether the terminal runs', async () => {
    const anon = (await (await fetch(`${t.url}/api/dashboard/session`)).json()) as Record<string, unknown>;
    expect(anon).toMatchObject({ authenticated: false, terminal: { enabled: false } });
    const signed = (await (await fetch(`${t.url}/api/dashboard/session`, { headers: { cookie: `cco_token=${encodeURIComponent(t.token)}` } })).json()) as {
      authenticated: boolean;
      boot: string;
      routes: string[];
    };
    expect(signed.authenticated).toBe(true);
    expect(signed.boot).toMatch(/^[0-9a-f-]{36}$/);
    expect(signed.routes).toContain('GET /api/status');
    expect(signed.routes).toContain('GET /api/sessions');
    // every route the page reads with getIf is one the session can name (getIf asks for no other):
    // the sidecar's agents were left out, and their cards were never restored after a restart
    const read = new Set<string>();
    for (const file of readdirSync(join(process.cwd(), 'web/src'), { recursive: true }) as string[]) {
      if (!/\.tsx?$/.test(file)) continue;
      for (const m of readFileSync(join(process.cwd(), 'web/src', file), 'utf8').matchAll(/getIf(?:<[^>]*>)?\(['`]([^'`?$]+)/g)) read.add(`GET ${m[1]}`);
    }
    expect(read.size).toBeGreaterThan(5);
    for (const route of read) expect(signed.routes, route).toContain(route);
  });

  it('refuses the terminal when it is off (403 with the fix), and always without the token (401)', async () => {
    const ws = `${t.url.replace('http', 'ws')}/terminal`;
    expect((await upgrade(ws)).status).toBe(401);
    const off = await upgrade(`${ws}?token=${encodeURIComponent(t.token)}`);
    expect(off.status).toBe(403);
    expect(JSON.parse(off.body)).toMatchObject({ error: { code: 'terminal_disabled' } });
    expect(off.body).toContain('terminal_enabled = true');
  });

  it('reports itself in /health', async () => {
    const h = (await (await fetch(`${t.url}/health`)).json()) as { checks: Record<string, { status: string; terminal?: string }> };
    expect(h.checks.dashboard).toMatchObject({ status: 'ok', terminal: 'disabled' });
  });
});

describe('terminal policy and token helpers', () => {
  it('runs the terminal only when enabled and bound to loopback', () => {
    expect(terminalRefusal({ enabled: false, host: '127.0.0.1' })).toMatch(/off/);
    expect(terminalRefusal({ enabled: true, host: '0.0.0.0' })).toMatch(/loopback/);
    expect(terminalRefusal({ enabled: true, host: '127.0.0.1' })).toBeUndefined();
    expect(terminalRefusal({ enabled: true, host: '::1' })).toBeUndefined();
  });

  it('compares tokens in constant time and rejects near misses', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
    expect(tokenCookie('a b')).toBe('cco_token=a%20b; HttpOnly; SameSite=Strict; Path=/');
    expect(tokenCookie('a b', 3000)).toBe('cco_token_3000=a%20b; HttpOnly; SameSite=Strict; Path=/');
  });
});
