import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROXY_SQLITE_CACHE_KIB, startProxyServer } from '../../cli/proxy.js';
import { startFakeProvider } from '../../fake-provider/server.js';
import type { FakeProvider } from '../../fake-provider/server.js';
import { tempCcoEnv } from '../../testing/temp-dirs.js';

/** The shipped CLI (built by test/global-setup.ts). */
const CLI = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'dist', 'cco', 'main.js');

let fake: FakeProvider;
let world: ReturnType<typeof tempCcoEnv>;
const children: ChildProcess[] = [];
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  fake = await startFakeProvider({ port: 0 });
  world = tempCcoEnv();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await fake?.close();
  world?.cleanup();
});

function proxy(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const child = spawn(process.execPath, [CLI, 'proxy', ...args], {
    ...(cwd ? { cwd } : {}),
    env: { ...process.env, ...world.env, CCO_ANTHROPIC_BASE_URL: fake.url, DATABASE_URL: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  const listening = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) {
        clearInterval(t);
        resolve(m[1] as string);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(t);
      reject(new Error(`exited ${code}: ${stderr}`));
    });
  });
  listening.catch(() => undefined); // a test that expects an exit does not await it
  return { child, listening, exited, out: () => stdout, err: () => stderr };
}

const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

describe('cco proxy', () => {
  it('refuses an unreasonable --workers with the recommended value', async () => {
    for (const w of ['0', '-1', '999', 'two']) {
      const p = proxy(['--workers', w, '--port', '0']);
      expect(await p.exited).toBe(2);
      expect(p.err()).toMatch(/Workers configuration invalid: --workers .*Recommended: --workers \d+/);
    }
  });

  it('serves the gateway and its admin API on --port 0, with secrets redacted in diagnostics', async () => {
    const p = proxy(['--port', '0', '--cache-ttl', '0', '--db-path', join(world.root, 'proxy.db')], { ANTHROPIC_API_KEY: 'sk-ant-secret-key-must-not-leak-0000' });
    const url = await p.listening;
    fake.queue({ text: 'via cco proxy' });
    const r = await fetch(`${url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'client-key' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
    expect(await r.json()).toMatchObject({ content: [{ text: 'via cco proxy' }] });
    // A key configured for the provider replaces the client's credential.
    expect(fake.requests.at(-1)?.headers['x-api-key']).toBe('sk-ant-secret-key-must-not-leak-0000');
    expect(((await (await fetch(`${url}/api/cache/stats`)).json()) as { enabled: boolean }).enabled).toBe(false);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    const diag = await (await fetch(`${url}/api/diagnostics`)).text();
    expect(diag).not.toContain('sk-ant-secret-key-must-not-leak');
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/gateway_requests_total/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('keeps --db-path :memory: in memory (no file of that name), in one process and with --workers 2', async () => {
    for (const workers of ['1', '2']) {
      const cwd = mkdtempSync(join(world.root, 'mem-'));
      const p = proxy(['--port', '0', '--cache-ttl', '0', '--workers', workers, '--db-path', ':memory:'], {}, cwd);
      const url = await p.listening;
      fake.queue({ text: 'in memory' });
      const r = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(r.status).toBe(200);
      expect(((await (await fetch(`${url}/health`)).json()) as { checks: { database: { status: string } } }).checks.database.status).toBe('ok');
      expect(readdirSync(cwd)).toEqual([]);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  });

  it('refuses a malformed --config with file, line, column and cause', async () => {
    const f = join(world.root, 'bad-routing.json');
    writeFileSync(f, '{\n  "routes": [\n    { "pattern": "claude-*", "provider": "anthropic" },\n  ]\n}\n');
    const p = proxy(['--port', '0', '--config', f]);
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain(`Unable to parse configuration file ${f}:4:3`);
  });

  it('refuses a --config that does not exist instead of starting on the shipped routes', async () => {
    const f = join(world.root, 'no-such-routing.json');
    const p = proxy(['--port', '0', '--config', f]);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain(`--config ${f}: no such file`);
  });

  it('--workers 2 runs two processes sharing one port', async () => {
    const p = proxy(['--port', '0', '--workers', '2', '--db-path', join(world.root, 'workers.db')]);
    const url = await p.listening;
    expect(p.out()).toContain('(2 workers)');
    const pids = new Set<number>();
    for (let i = 0; i < 30 && pids.size < 2; i++) {
      // A fresh connection each time, so the primary hands it to either worker.
      const h = (await (await fetch(`${url}/health`, { dispatcher: new Agent({ pipelining: 0 }) } as RequestInit)).json()) as { pid: number };
      pids.add(h.pid);
    }
    expect(pids.size).toBe(2);
    expect(pids.has(p.child.pid as number)).toBe(false);
    // named as the guides look for them (`top | grep cco-proxy`, lsof's COMMAND)
    expect(readFileSync(`/proc/${p.child.pid}/comm`, 'utf8')).toMatch(/^cco-proxy/);
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/^cco-proxy worker --port 0/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('--workers 2: /metrics sums counters over the workers and labels gauges by pid; a cache clear reaches every worker', async () => {
    const p = proxy(['--port', '0', '--workers', '2', '--db-path', join(world.root, 'workers-metrics.db')]);
    const url = await p.listening;
    // A fresh connection each time, so the primary hands it to either worker.
    const fresh = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, dispatcher: new Agent({ pipelining: 0 }) } as RequestInit);
    const body = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'cached by each worker' }] });
    const send = async () => {
      const r = await fresh('/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body });
      await r.text();
      return r.headers.get('x-cco-cache');
    };
    for (let i = 0; i < 7; i++) await send();
    const statsByPid = async () => {
      const seen = new Map<number, { entries: number; pid: number }>();
      for (let i = 0; i < 30 && seen.size < 2; i++) {
        const s = (await (await fresh('/api/cache/stats')).json()) as { entries: number; pid: number };
        seen.set(s.pid, s);
      }
      return seen;
    };
    const before = await statsByPid();
    expect(before.size).toBe(2);
    // every scrape, whichever worker takes it, counts the 7 requests of both workers
    const series = 'http_requests_total{method="POST",route="/v1/messages",status_code="200"}';
    const scrapes: string[] = [];
    for (let i = 0; i < 4; i++) scrapes.push(await (await fresh('/metrics')).text());
    for (const text of scrapes) {
      expect(text.split('\n').find((l) => l.startsWith(`${series} `))).toBe(`${series} 7`);
      for (const pid of before.keys()) expect(text).toMatch(new RegExp(`^gateway_cache_entries\\{pid="${pid}"\\} \\d+$`, 'm'));
    }
    // many scrapes at once (several dashboards, Prometheus): each answered, and the primary gathers
    // without a listener per scrape on each worker (was Node's MaxListenersExceededWarning at 11)
    const many = await Promise.all(Array.from({ length: 24 }, () => fresh('/metrics').then(async (r) => (await r.text(), r.status))));
    expect(many.every((status) => status === 200)).toBe(true);
    expect(p.err()).not.toContain('MaxListenersExceededWarning');
    // one clear empties both workers' caches, and says which worker answered
    const cleared = (await (await fresh('/api/cache/clear', { method: 'POST' })).json()) as { cleared: number; pid: number; workers: { pid: number; cleared: number }[] };
    expect(before.has(cleared.pid)).toBe(true);
    expect(cleared.cleared).toBe([...before.values()].reduce((n, s) => n + s.entries, 0));
    expect(cleared.workers.map((w) => w.pid).sort()).toEqual([...before.keys()].sort());
    const after = await statsByPid();
    expect([...after.values()].map((s) => s.entries)).toEqual([0, 0]);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 30_000);

  it('--workers 2: a worker closing gracefully is asked for nothing more: /metrics on the other answers at once, and it is replaced once its requests end', async () => {
    const p = proxy(['--port', '0', '--workers', '2', '--db-path', join(world.root, 'workers-leaving.db')]);
    const url = await p.listening;
    // one keep-alive connection: every request on it goes to the same worker
    const pinned = new Agent({ connections: 1 });
    const leaving = ((await (await fetch(`${url}/health`, { dispatcher: pinned } as RequestInit)).json()) as { pid: number }).pid;
    // a request that holds the worker's graceful close open for 4 s
    fake.queue({ text: 'slow', firstByteDelayMs: 4000 });
    const slow = fetch(`${url}/v1/messages`, { method: 'POST', dispatcher: pinned, headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'x-cco-cache': 'bypass' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'slow' }] }) } as RequestInit);
    await expect.poll(() => fake.activeRequests, { timeout: 5000 }).toBe(1);
    // a scrape that reaches both workers: the /health the closing one answered is counted from here on
    const healthSeries = 'http_requests_total{method="GET",route="/health",status_code="200"}';
    const countedHealth = async () => line(await (await fetch(`${url}/metrics`, { dispatcher: new Agent({ pipelining: 0 }) } as RequestInit)).text(), healthSeries);
    expect(await countedHealth()).toBe(`${healthSeries} 1`);
    process.kill(leaving, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // the other worker takes new connections; its /metrics gathers from itself only (it waited 5 s for the closing one, then a 503)
    const t0 = Date.now();
    const m = await fetch(`${url}/metrics`, { dispatcher: new Agent({ pipelining: 0 }) } as RequestInit);
    expect(m.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await m.text()).not.toContain(`pid="${leaving}"`);
    // the closing worker still finishes its request, then exits and is replaced
    const r = await slow;
    expect(r.status).toBe(200);
    await r.text();
    await expect.poll(() => p.err(), { timeout: 10_000 }).toMatch(new RegExp(`worker ${leaving} exited \\(0\\); starting a new one`));
    // the worker that exited still counts in the sums (a drop would read as a counter reset to Prometheus)
    expect(await countedHealth()).toBe(`${healthSeries} 1`);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 30_000);

  it('--workers 2: a second Ctrl-C ends the workers at once, while the first one\'s graceful close waits for a call in flight', async () => {
    const p = proxy(['--port', '0', '--workers', '2', '--db-path', join(world.root, 'workers-twice.db')]);
    const url = await p.listening;
    fake.queue({ fault: 'hang' });
    const inFlight = fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hang on' }] }) }).catch(() => undefined);
    for (let i = 0; i < 100 && fake.activeRequests === 0; i++) await new Promise((r) => setTimeout(r, 20));
    p.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    p.child.kill('SIGINT');
    await p.exited;
    // was: nothing, the primary waited for the workers' graceful close (5 s and more)
    expect(Date.now() - t0).toBeLessThan(2000);
    await inFlight;
    // nothing left queued for the next test
    fake.reset();
  }, 30_000);

  it('--workers: a replacement that cannot start exits and is tried again until it can', async () => {
    const config = join(world.root, 'workers-routing.json');
    writeFileSync(config, '{"routes": []}');
    const p = proxy(['--port', '0', '--workers', '2', '--config', config, '--db-path', join(world.root, 'workers-retry.db')]);
    const url = await p.listening;
    const pidsSeen = async (want: number): Promise<Set<number>> => {
      const pids = new Set<number>();
      for (let i = 0; i < 40 && pids.size < want; i++) {
        const h = (await (await fetch(`${url}/health`, { dispatcher: new Agent({ pipelining: 0 }) } as RequestInit)).json()) as { pid: number };
        pids.add(h.pid);
      }
      return pids;
    };
    const [victim] = await pidsSeen(1);
    // the routing file breaks while the gateway runs (a trailing comma), then a worker dies
    writeFileSync(config, '{"routes": [],}');
    process.kill(victim as number, 'SIGKILL');
    await expect.poll(() => p.err(), { timeout: 10_000 }).toMatch(/could not start .*1 of 2 workers serving; trying again in 1 s/);
    expect(p.err()).toMatch(/Unable to parse configuration file .*trailing comma/);
    // fixed: the next try starts, and two workers serve again
    writeFileSync(config, '{"routes": []}');
    await expect.poll(async () => (await pidsSeen(2)).size, { timeout: 15_000, interval: 500 }).toBe(2);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 30_000);

  it('--log-level debug logs each routing decision and upstream answer; info does not', async () => {
    for (const level of ['debug', 'info']) {
      const p = proxy(['--port', '0', '--log-level', level, '--cache-ttl', '0', '--db-path', join(world.root, `log-${level}.db`)]);
      const url = await p.listening;
      const r = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'log me' }] }) });
      expect(r.status).toBe(200);
      await r.text();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      const logs = p.out() + p.err();
      if (level === 'debug') {
        expect(logs).toMatch(/"msg":"routing request"/);
        expect(logs).toMatch(/"status":200.*"msg":"upstream answered"/);
      } else expect(logs).not.toMatch(/routing request|upstream answered/);
    }
  });

  it('a shutdown answers what still runs after its grace with a 503 (recorded as such), and answers given meanwhile say Connection: close', async () => {
    const opts = { port: 0, host: '127.0.0.1', dbPath: join(world.root, 'shutdown.db'), workers: 1, cacheSizeMb: 1, cacheTtlSeconds: 0, logLevel: 'error' as const, httpProxy: undefined, config: join(world.root, 'none.json') };
    const s = await startProxyServer(opts, { env: { ...world.env, CCO_ANTHROPIC_BASE_URL: fake.url, DATABASE_URL: '', REDIS_URL: '' } });
    const body = (content: string) => JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content }] });
    const post = (content: string) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const req = httpRequest(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test-000000000000' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
        });
        req.on('error', reject);
        req.end(body(content));
      });
    // one that never gets an upstream answer, one that gets it slowly (during the close)
    fake.queue({ fault: 'hang' }, { text: 'slow but here', firstByteDelayMs: 300 });
    const hanging = post('hang');
    await new Promise((r) => setTimeout(r, 100));
    const slow = post('slow');
    await new Promise((r) => setTimeout(r, 100));
    const closed = s.close(800);
    const answered = await slow;
    expect(answered.status).toBe(200);
    expect(answered.connection).toBe('close');
    // was: a socket hang-up at the cut, recorded as the client's own disconnect (499)
    const cut = await hanging;
    expect(cut.status).toBe(503);
    expect(JSON.parse(cut.body)).toMatchObject({ type: 'error', error: { message: 'The gateway is shutting down' } });
    await closed;
    const db = new SQLite(join(world.root, 'shutdown.db'), { readonly: true });
    try {
      expect(db.prepare("select status, error_type from gateway_requests order by id").all()).toEqual([
        { status: 200, error_type: null },
        { status: 503, error_type: 'shutting_down' },
      ]);
    } finally {
      db.close();
    }
  });

  it('keeps a small SQLite page cache of its own unless CCO_DB_CACHE_SIZE says otherwise', async () => {
    const cacheSize = async (env: Record<string, string>, db: string) => {
      const opts = { port: 0, host: '127.0.0.1', dbPath: join(world.root, db), workers: 1, cacheSizeMb: 1, cacheTtlSeconds: 0, logLevel: 'error' as const, httpProxy: undefined, config: join(world.root, 'none.json') };
      const s = await startProxyServer(opts, { env: { ...world.env, DATABASE_URL: '', REDIS_URL: '', ...env } });
      try {
        const r = await sql<{ cache_size: number }>`pragma cache_size`.execute(s.store.db);
        return r.rows[0]?.cache_size;
      } finally {
        await s.close();
      }
    };
    // Negative: KiB (SQLite's convention); the store's own default is 16 MB.
    expect(await cacheSize({}, 'small-cache.db')).toBe(-PROXY_SQLITE_CACHE_KIB);
    // CCO_DB_CACHE_SIZE counts pages of 4 KiB.
    expect(await cacheSize({ CCO_DB_CACHE_SIZE: '5000' }, 'env-cache.db')).toBe(-20_000);
  });
});
