import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { buildApp } from './app.js';
import { registerHealth } from './health.js';
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
    expect(anon.json()).toEqual({ status: 'degraded', service: 'cco-daemon', checks: { database: { status: 'ok' }, redis: { status: 'down' } } });
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
    await app.close();
  });
});
