import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { buildApp } from './app.js';
import { closeGracefully } from './graceful-close.js';
import { createMetricsRegistry } from './metrics.js';

async function app() {
  const { logger } = createLogger({ level: 'silent' });
  const a = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '127.0.0.1', accessToken: 'tok-123456', port: () => 0 } });
  a.get('/slow', async () => {
    await new Promise((r) => setTimeout(r, 400));
    return { done: true };
  });
  a.get('/never', () => new Promise(() => undefined));
  // what a module ends in its `cutting` hook: answered once told to
  const told: (() => void)[] = [];
  a.get('/until-told', (_req, reply) =>
    new Promise<void>((done) =>
      told.push(() => {
        void reply.code(503).send({ error: 'stopping' });
        done();
      }),
    ),
  );
  (a as unknown as { told: typeof told }).told = told;
  await a.listen({ port: 0, host: '127.0.0.1' });
  return { a, url: `http://127.0.0.1:${(a.server.address() as AddressInfo).port}` };
}

describe('closing the daemon’s server', () => {
  it('lets a request in flight finish with its answer, then closes at once', async () => {
    const { a, url } = await app();
    const headers = { 'x-cco-token': 'tok-123456' };
    // a keep-alive connection that has gone idle does not hold the close
    await (await request(`${url}/slow`, { headers })).body.json();
    const slow = request(`${url}/slow`, { headers }).then(async (r) => ({ status: r.statusCode, body: await r.body.json() }));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await closeGracefully(a, 5000);
    // was: the socket destroyed at close, the client saw an empty reply for work that was done
    expect(await slow).toEqual({ status: 200, body: { done: true } });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('cuts what is still running after the grace period', async () => {
    const { a, url } = await app();
    const never = request(`${url}/never`, { headers: { 'x-cco-token': 'tok-123456' } }).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await closeGracefully(a, 300);
    expect(await never).toBe('cut');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('before the cut, lets what still runs answer that the server stops (beforeCut), and that answer reaches the client', async () => {
    const { a, url } = await app();
    const told = (a as unknown as { told: (() => void)[] }).told;
    const pending = request(`${url}/until-told`, { headers: { 'x-cco-token': 'tok-123456' } }).then(
      async (r) => ({ status: r.statusCode, body: await r.body.json() }),
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 50));
    let calls = 0;
    await closeGracefully(a, 200, {
      beforeCut: () => {
        calls++;
        for (const f of told) f();
      },
    });
    expect(calls).toBe(1);
    expect(await pending).toEqual({ status: 503, body: { error: 'stopping' } });
  });
});
