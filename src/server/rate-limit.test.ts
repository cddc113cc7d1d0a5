import { createServer } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitsSection } from '../config/sections/auth.js';
import { DAEMON_REDIS_OPTIONS } from '../daemon/redis-client.js';
import { installErrorHandling } from './errors.js';
import { installRateLimits } from './rate-limit.js';

/** A port nothing listens on: taken from the OS, then let go. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('rate limits while Redis is down', () => {
  let app: FastifyInstance | undefined;
  let redis: Redis | undefined;
  afterEach(async () => {
    await app?.close();
    redis?.disconnect();
  });

  it('still refuses login attempts over the limit (counted by this daemon), and the API stays up', async () => {
    // the daemon's own client settings: no offline queue, so each command fails at once
    redis = new Redis(`redis://127.0.0.1:${await closedPort()}`, { ...DAEMON_REDIS_OPTIONS, connectTimeout: 500 });
    redis.on('error', () => undefined);
    app = Fastify();
    installErrorHandling(app);
    await installRateLimits(app, rateLimitsSection.parse({ login_per_minute: 3, per_key_per_minute: 5 }), { redis, loopbackBind: false });
    app.post('/api/auth/login', async (_req, reply) => reply.code(401).send({ error: { code: 'invalid_credentials' } }));
    app.get('/api/tasks', async () => ({ tasks: [] }));
    await app.ready();

    const login = (email: string) => app!.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'guess' } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login('ann@example.com')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const refused = await login('ann@example.com');
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limited', details: { limit: 3 } } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // per address and account: another account is not locked out
    expect((await login('bob@example.com')).statusCode).toBe(401);
    // the rest of the API answers (the per-key limit lets requests through while Redis is away)
    for (let i = 0; i < 8; i++) expect((await app.inject({ method: 'GET', url: '/api/tasks' })).statusCode).toBe(200);
  });
});
