import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { buildApp } from './app.js';
import { MEMORY_LIMIT_MB, MemoryWatch, registerHealth, SharedWriteProbe, WRITE_PROBE_REUSE_MS } from './health.js';
import type { WriteProbeAnswer } from './health.js';
import { createMetricsRegistry } from './metrics.js';

async function appOn(host: string) {
  const { logger } = createLogger({ level: 'silent' });
  const app = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host, accessToken: 'local-access-token-123', port: () => 3000 } });
  registerHealth(app, {
    version: '1.2.3',
    startedAt: Date.now(),
    port: () => 3000,
    parts: () => [],
    extra: async () => ({ database: { status: 'ok', location: '/home/u/.cco/analytics.db' }, redis: { status: 'down', error: 'connect ECONNREFUSED redis.internal:6379' } }),
  });
  return app;
}

describe('/health', () => {
  it('beyond loopback without credentials: the verdict and each part status only', async () => {
    const app = await appOn('0.0.0.0');
    const anon = await app.inject({ method: 'GET', url: '/health', headers: { host: '10.0.0.5:3000' }, remoteAddress: '10.0.0.9' });
    expect(anon.statusCode).toBe(503);
    expect(anon.json()).toEqual({ status: 'degraded', service: 'cco-daemon', checks: { database: { status: 'ok' }, redis: { status: 'down' }, memory: { status: 'ok' } } });
    const admitted = await app.inject({ method: 'GET', url: '/health', headers: { host: '10.0.0.5:3000', 'x-cco-token': 'local-access-token-123' }, remoteAddress: '10.0.0.9' });
    expect(admitted.json()).toMatchObject({ pid: process.pid, version: '1.2.3', checks: { database: { location: '/home/u/.cco/analytics.db' }, redis: { error: expect.stringContaining('redis.internal') } } });
    // this machine itself (the CLI finds its daemon by pid and store), unless a proxy relayed the call
    const local = await app.inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:3000' }, remoteAddress: '127.0.0.1' });
    expect(local.json()).toMatchObject({ pid: process.pid, checks: { database: { location: '/home/u/.cco/analytics.db' } } });
    const proxied = await app.inject({ method: 'GET', url: '/health', headers: { host: 'cco.team.example', 'x-forwarded-for': '203.0.113.7' }, remoteAddress: '127.0.0.1' });
    expect(proxied.json()).not.toHaveProperty('pid');
    await app.close();
  });

  it('on loopback: the whole report, as the launcher and `cco status` read it', async () => {
    const app = await appOn('127.0.0.1');
    const r = await app.inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:3000' } });
    expect(r.json()).toMatchObject({ service: 'cco-daemon', pid: process.pid, port: 3000, checks: { database: { location: '/home/u/.cco/analytics.db' } } });
    // the guide's own fields beside them (its health endpoint and its scripts read these)
    expect(r.json()).toMatchObject({ timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), uptime: expect.any(Number), database: 'connected', redis: 'error', memory: { rss: expect.stringMatching(/^\d+MB$/), heapUsed: expect.stringMatching(/^\d+MB$/), heapTotal: expect.stringMatching(/^\d+MB$/) } });
    expect(r.json()).toHaveProperty('environment');
    await app.close();
  });

  it('a part that never answers is down after 2 s: the whole answer stays within a probe’s 3 s', async () => {
    const { logger } = createLogger({ level: 'silent' });
    const app = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '127.0.0.1', accessToken: 'local-access-token-123', port: () => 3000 } });
    const hung = { name: 'sidecar', register: () => undefined, health: () => new Promise<never>(() => undefined) };
    registerHealth(app, { version: '1', startedAt: Date.now(), port: () => 3000, parts: () => [hung], extra: async () => ({}) });
    const t0 = Date.now();
    const r = await app.inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:3000' } });
    expect(Date.now() - t0).toBeLessThan(2900);
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ checks: { sidecar: { status: 'down', error: 'the sidecar check did not answer within 2000 ms' } } });
    await app.close();
  });

  it('memory past the limit degrades /health (the guide\'s "high memory" warning sign) and keeps 200 (still serving), warning once per crossing', async () => {
    const { logger } = createLogger({ level: 'silent' });
    const app = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '127.0.0.1', accessToken: 'local-access-token-123', port: () => 3000 } });
    const logged: { level: string; msg: string }[] = [];
    const log = { warn: (_o: object, msg: string) => void logged.push({ level: 'warn', msg }), info: (_o: object, msg: string) => void logged.push({ level: 'info', msg }) };
    registerHealth(app, { version: '1', startedAt: Date.now(), port: () => 3000, parts: () => [], extra: async () => ({}), logger: log, memoryLimitMb: 1 });
    const ask = () => app.inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:3000' } });
    const high = await ask();
    // a daemon that still answers is not taken out of load balancers or readiness for its size
    expect(high.statusCode).toBe(200);
    expect(high.json()).toMatchObject({ status: 'degraded', checks: { memory: { status: 'degraded', serving: true, limit_mb: 1, error: expect.stringContaining('above 1 MB') } } });
    expect(high.json().checks.memory.rss_mb).toBe(high.json().memory_usage_mb);
    await ask();
    expect(logged).toEqual([{ level: 'warn', msg: expect.stringContaining('memory usage above 1 MB') }]);
    await app.close();
    expect(MEMORY_LIMIT_MB).toBe(1024);
    // back under: ok, one line saying so, then quiet
    const under = new MemoryWatch(100, log);
    expect(under.check(150).status).toBe('degraded');
    expect(under.check(90)).toEqual({ status: 'ok', rss_mb: 90, limit_mb: 100 });
    under.check(80);
    expect(logged.map((l) => l.level)).toEqual(['warn', 'warn', 'info']);
  });
});

describe('origins beyond loopback', () => {
  it("beyond loopback the dashboard's page is same-origin with the Host it was served under; other sites stay refused", async () => {
    const app = await appOn('0.0.0.0');
    app.get('/api/whoami', async (req) => req.principal);
    const ask = (origin: string, token?: string) =>
      app.inject({ method: 'GET', url: '/api/whoami', headers: { host: 'cco.team.lan:3000', origin, ...(token ? { 'x-cco-token': token } : {}) }, remoteAddress: '10.0.0.9' });
    expect((await ask('http://cco.team.lan:3000', 'local-access-token-123')).statusCode).toBe(200);
    // the page's own origin, without a credential: still 401, as every route beyond loopback
    expect((await ask('http://cco.team.lan:3000')).statusCode).toBe(401);
    expect((await ask('http://evil.example', 'local-access-token-123')).statusCode).toBe(403);
    expect((await ask('http://cco.team.lan:3001', 'local-access-token-123')).statusCode).toBe(403);
    await app.close();
  });
});

describe('/health status code', () => {
  const app = async (part: Record<string, unknown>) => {
    const { logger } = createLogger({ level: 'silent' });
    const a = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '127.0.0.1', accessToken: 'local-access-token-123', port: () => 3000 } });
    registerHealth(a, { version: '1.2.3', startedAt: Date.now(), port: () => 3000, parts: () => [], extra: async () => ({ database: { status: 'ok' }, gateway: part as { status: 'degraded' } }) });
    return a;
  };
  const ask = async (part: Record<string, unknown>) => (await (await app(part)).inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:3000' } })).statusCode;

  it('a part degraded but still serving keeps 200 (the report still says degraded); degraded and not serving is 503', async () => {
    expect(await ask({ status: 'degraded', serving: true })).toBe(200);
    expect(await ask({ status: 'degraded' })).toBe(503);
    expect(await ask({ status: 'down', serving: true })).toBe(503);
  });
});

describe('the SQLite write probe behind /health', () => {
  const lockedAnswer = { lock: 'busy' as const, error: 'database is locked: another process has held the write lock' };

  it('concurrent /health calls share one probe in flight, and its answer (busy too) is reused until it expires', async () => {
    let probes = 0;
    let finish: (a: WriteProbeAnswer) => void = () => undefined;
    const probe = new SharedWriteProbe(async () => {
      probes++;
      return new Promise<WriteProbeAnswer>((r) => (finish = r));
    }, 150);
    const { logger } = createLogger({ level: 'silent' });
    const app = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '127.0.0.1', accessToken: 'local-access-token-123', port: () => 3000 } });
    registerHealth(app, { version: '1', startedAt: Date.now(), port: () => 3000, parts: () => [], extra: async () => ({ database: { status: 'ok', dialect: 'sqlite', location: '/data/analytics.db' } }), writeProbe: probe });
    const ask = () => app.inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:3000' } });
    const many = Array.from({ length: 50 }, ask);
    await new Promise((r) => setTimeout(r, 50));
    expect(probes).toBe(1);
    finish(lockedAnswer);
    for (const r of await Promise.all(many)) expect(r.json().checks.database).toMatchObject({ status: 'degraded', lock: 'busy' });
    // within the reuse window: the same answer, no probe
    expect((await ask()).json().checks.database.lock).toBe('busy');
    expect(probes).toBe(1);
    // expired: probed again, and the lock given back is seen
    await new Promise((r) => setTimeout(r, 200));
    const next = ask();
    await new Promise((r) => setTimeout(r, 20));
    expect(probes).toBe(2);
    finish(undefined);
    expect((await next).json().checks.database).toEqual({ status: 'ok', dialect: 'sqlite', location: '/data/analytics.db' });
    await app.close();
  });

  it('an ok answer is reused too; a probe that throws is not kept; each file has its own', async () => {
    const files: string[] = [];
    let fail = true;
    const probe = new SharedWriteProbe(async (file) => {
      files.push(file);
      if (fail) throw new Error('boom');
      return undefined;
    }, 10_000);
    await expect(probe.check('/a.db')).rejects.toThrow('boom');
    fail = false;
    expect(await probe.check('/a.db')).toBeUndefined();
    expect(await probe.check('/a.db')).toBeUndefined();
    expect(await probe.check('/b.db')).toBeUndefined();
    expect(files).toEqual(['/a.db', '/a.db', '/b.db']);
    expect(WRITE_PROBE_REUSE_MS).toBe(2000);
  });
});
