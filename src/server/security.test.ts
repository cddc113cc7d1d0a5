import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import http from 'node:http';
import net from 'node:net';

/** Raw request so we control Host and Origin exactly as a browser or attacker would. */
function raw(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes and returns what the server answered before closing. */
function rawHttp(url: string, request: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let out = '';
    sock.on('data', (d: Buffer) => (out += d.toString()));
    sock.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0);
      resolve({ status, body: out.slice(out.indexOf('\r\n\r\n') + 4) });
    });
    sock.on('error', reject);
    sock.write(request);
  });
}

describe('daemon front door', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.cleanup());

  it('lets curl-style requests (no Origin) through on loopback', async () => {
    expect((await raw(`${t.url}/api/status`, {})).status).toBe(200);
  });

  it('refuses a foreign Host (DNS rebinding)', async () => {
    const r = await raw(`${t.url}/api/status`, { host: 'evil.example:80' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
    // names that merely start like a loopback address are names (an attacker's DNS)
    for (const host of ['127.attacker.example:80', '127.0.0.1.evil:80']) expect((await raw(`${t.url}/api/status`, { host })).status, host).toBe(403);
    expect((await raw(`${t.url}/api/status`, { host: '127.0.0.2:80' })).status).toBe(200);
  });

  it('refuses a foreign Origin even with the token', async () => {
    const r = await raw(`${t.url}/api/status`, { origin: 'http://evil.example', 'x-cco-token': t.token });
    expect(r.status).toBe(403);
    // the guide's "CORS Errors": the answer says what is allowed and what to do instead
    const error = (JSON.parse(r.body) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('origin_not_allowed');
    expect(error.message).toMatch(/own dashboard.*cco dashboard.*curl/);
  });

  it('needs the token from the dashboard origin, and then allows it with CORS for that origin only', async () => {
    const origin = t.url;
    expect((await raw(`${t.url}/api/status`, { origin })).status).toBe(401);
    const ok = await raw(`${t.url}/api/status`, { origin, 'x-cco-token': t.token });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(origin);
  });

  it('answers a CORS preflight from the dashboard origin without the token (browsers send none with it); other origins get a 403', async () => {
    const preflight = (origin: string) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
        const req = http.request(`${t.url}/api/status`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-cco-token' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        });
        req.on('error', reject);
        req.end();
      });
    const own = await preflight(t.url);
    expect(own.status).toBe(204);
    expect(own.headers['access-control-allow-origin']).toBe(t.url);
    expect(own.headers['access-control-allow-headers']).toContain('x-cco-token');
    expect((await preflight('http://evil.example')).status).toBe(403);
    // the request itself still needs the token
    expect((await raw(`${t.url}/api/status`, { origin: t.url })).status).toBe(401);
  });

  it("a WebSocket to a path that takes none is a 404 naming /ws (was accepted, then closed without a reason)", async () => {
    for (const path of ['/', '/api/status', '/nowhere']) {
      const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}${path}?token=${t.token}`);
        ws.on('open', () => reject(new Error(`${path} opened`)));
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('error', () => undefined);
      });
      expect(r.status, path).toBe(404);
      expect(r.body, path).toContain('/ws');
    }
  });

  it('needs the token for WebSockets and replays hub messages to a late client', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws`);
        ws.on('open', () => reject(new Error('opened without token')));
        ws.on('error', resolve);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      }),
    ).resolves.toBe(401);
    t.daemon.hub.publish('task_update', { id: 'early' });
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${t.token}`);
    const first = await new Promise<{ type: string; data: { id?: string } }[]>((resolve) => {
      const got: { type: string; data: { id?: string } }[] = [];
      ws.on('message', (m) => {
        got.push(JSON.parse(String(m)) as { type: string; data: { id?: string } });
        if (got.some((g) => g.data?.id === 'late')) resolve(got);
      });
      ws.on('open', () => setTimeout(() => t.daemon.hub.publish('task_update', { id: 'late' }), 50));
    });
    ws.close();
    const ids = first.filter((m) => m.type === 'task_update').map((m) => m.data.id);
    expect(ids).toEqual(['early', 'late']);
  });

  it("a cursor counted in another hub (a restart, another instance behind a balancer) is answered with a hello saying to start over, and everything kept", async () => {
    const hub = t.daemon.hub;
    for (let i = 0; i < 3; i++) hub.publish('task_update', { id: `resume-${i}` });
    const last = hub.lastSeq;
    /** The frames a client gets on connecting with `query`, until the replay is done. */
    const frames = (query: string) =>
      new Promise<{ seq: number; type: string; data: { id?: string; boot?: string; reset?: boolean } }[]>((resolve) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${t.token}&${query}`);
        const got: { seq: number; type: string; data: { id?: string; boot?: string; reset?: boolean } }[] = [];
        ws.on('message', (m) => got.push(JSON.parse(String(m)) as (typeof got)[number]));
        ws.on('open', () =>
          setTimeout(() => {
            ws.close();
            resolve(got);
          }, 150),
        );
      });
    // the same hub: resumes after the cursor
    const same = await frames(`boot=${hub.boot}&after=${last - 1}`);
    expect(same[0]).toMatchObject({ type: 'hello', data: { boot: hub.boot, reset: false } });
    expect(same.slice(1).map((m) => m.data.id)).toEqual(['resume-2']);
    // another hub's cursor: was read as this hub's, and the messages below it were never sent
    const other = await frames(`boot=another-instance&after=${last + 50}`);
    expect(other[0]).toMatchObject({ type: 'hello', data: { boot: hub.boot, reset: true } });
    expect(other.map((m) => m.data.id)).toEqual(expect.arrayContaining(['resume-0', 'resume-1', 'resume-2']));
    // a client that knows no boot yet learns it; one that sends none gets no hello (older clients)
    expect((await frames('boot='))[0]).toMatchObject({ type: 'hello', data: { reset: false } });
    expect((await frames(`after=${last}`)).some((m) => m.type === 'hello')).toBe(false);
  });

  it('closes the socket of every refused WebSocket upgrade (host, origin, token), so shutdown never waits on it', async () => {
    const port = new URL(t.url).port;
    const cases: Record<string, string>[] = [
      { host: 'evil.example' },
      { host: `127.0.0.1:${port}`, origin: 'http://evil.example' },
      { host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'x-cco-token': t.token },
      { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` },
    ];
    for (const headers of cases) {
      const answer = await new Promise<{ head: string; closedByServer: boolean }>((resolve, reject) => {
        const sock = net.connect(Number(port), '127.0.0.1');
        let head = '';
        const timer = setTimeout(() => {
          sock.destroy();
          resolve({ head, closedByServer: false });
        }, 3000);
        sock.on('data', (d: Buffer) => (head += d.toString()));
        // the client never closes: only the server can end this socket
        sock.on('end', () => {
          clearTimeout(timer);
          sock.destroy();
          resolve({ head, closedByServer: true });
        });
        sock.on('error', reject);
        const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
        sock.write(['GET /ws HTTP/1.1', ...lines, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'));
      });
      expect(answer.head, JSON.stringify(headers)).toMatch(/^HTTP\/1\.1 40[13]/);
      expect(answer.closedByServer, JSON.stringify(headers)).toBe(true);
    }
  });

  it('a /ws query it cannot use (types given twice, after not a number, an unknown key) is a 400 naming the field, before the upgrade', async () => {
    for (const [q, field] of [
      ['types=a&types=b', 'query.types'],
      ['after=abc', 'query.after'],
      ['bogus=1', 'query'],
    ] as const) {
      const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${t.token}&${q}`);
        ws.on('open', () => reject(new Error(`${q}: opened`)));
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        });
        ws.on('error', () => undefined);
      });
      expect(status.code, q).toBe(400);
      expect((JSON.parse(status.body) as { error: { field: string } }).error.field, q).toBe(field);
    }
    // a well-formed filter still works
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${t.token}&types=task_update&after=0`);
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    ws.close();
  });

  it('a client frame over the 1 MB limit closes that socket (1009) without logging a server error', async () => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${t.token}`);
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);
    const logs = (await (await fetch(`${t.url}/api/logs?level=error`, { headers: { 'x-cco-token': t.token } })).json()) as { logs: { msg: string }[] };
    expect(logs.logs.filter((l) => /payload|websocket/i.test(JSON.stringify(l)))).toEqual([]);
  });

  it('a path parameter over the length limit is a 414 naming params', async () => {
    const r = await fetch(`${t.url}/api/tasks/t_${'a'.repeat(600)}`);
    expect(r.status).toBe(414);
    expect(await r.json()).toEqual({ error: { code: 'uri_too_long', message: expect.any(String), field: 'params' } });
  });

  it('headers over the limit (a huge query string) and malformed HTTP get JSON errors, then the connection closes', async () => {
    const host = new URL(t.url).host;
    const big = await rawHttp(t.url, `GET /api/status?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'headers_too_large' } });
    const bad = await rawHttp(t.url, `POST /api/status HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'bad_request', message: 'Malformed HTTP request' } });
  });

  it('GET /ws without an upgrade is a 426 saying how to connect, not an empty 404', async () => {
    const r = await raw(`${t.url}/ws`, { 'x-cco-token': t.token });
    expect(r.status).toBe(426);
    expect(r.headers.upgrade).toBe('websocket');
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'upgrade_required', field: 'headers.upgrade' } });
    expect(JSON.parse(r.body).error.message).toMatch(/WebSocket client/);
  });

  it('answers /health and its /api/health alias', async () => {
    const a = await raw(`${t.url}/health`, {});
    const b = await raw(`${t.url}/api/health`, {});
    expect(a.status).toBe(200);
    expect(JSON.parse(b.body)).toMatchObject({ status: 'ok', service: 'cco-daemon', checks: { database: { status: 'ok' } } });
  });

  it('serves Prometheus metrics', async () => {
    const r = await raw(`${t.url}/metrics`, {});
    expect(r.status).toBe(200);
    expect(r.body).toContain('http_request_duration_seconds');
    // the guides alert on requests over 2 s: a bucket of its own
    expect(r.body).toMatch(/http_request_duration_seconds_bucket\{le="2",/);
  });
});

describe('daemon front door in team mode (bound beyond loopback)', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ config: (c) => ({ ...c, daemon: { ...c.daemon, host: '0.0.0.0' } }) });
  });
  afterAll(() => t.cleanup());

  it("answers the health checks without credentials, /health and the seeds' /api/health alike; other routes want them", async () => {
    for (const path of ['/health', '/api/health']) {
      const r = await fetch(`${t.url}${path}`);
      // was: 401 on /api/health
      expect([path, r.status]).toEqual([path, 200]);
    }
    expect((await fetch(`${t.url}/api/status`)).status).toBe(401);
  });

  it("`cco dashboard`'s one-time sign-in link works in team mode too (it was refused for want of credentials)", async () => {
    const issued = (await (await fetch(`${t.url}/api/dashboard/login-code`, { method: 'POST', headers: { 'x-cco-token': t.token } })).json()) as { path: string };
    const r = await fetch(`${t.url}${issued.path}`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('set-cookie') ?? '').toContain('cco_token_');
    // a made-up code gets the dashboard's refusal, and the page without a credential stays closed
    expect((await fetch(`${t.url}/?code=made-up`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${t.url}/?other=1`, { redirect: 'manual' })).status).toBe(401);
  });

  it('reads a cookie value that is no URI encoding as no token: a 401, not a 500', async () => {
    for (const cookie of ['cco_token=%E0%A4%A', `cco_token_${new URL(t.url).port}=%zz`]) {
      const r = await fetch(`${t.url}/api/status`, { headers: { cookie } });
      expect([cookie, r.status]).toEqual([cookie, 401]);
      expect(await r.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    // and the real token still works beside a broken cookie
    const ok = await fetch(`${t.url}/api/status`, { headers: { cookie: 'other=%zz', 'x-cco-token': t.token } });
    expect(ok.status).toBe(200);
  });
});
