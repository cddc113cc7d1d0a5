import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitsSection } from '../config/sections/auth.js';
import { DAEMON_REDIS_OPTIONS } from '../daemon/redis-client.js';
import { tcpRelay } from '../testing/tcp-relay.js';
import type { TcpRelay } from '../testing/tcp-relay.js';
import { installErrorHandling } from './errors.js';
import { installRateLimits } from './rate-limit.js';

const REDIS = process.env.REDIS_URL;

/** An app with the daemon's rate limits on `redis` (the daemon's client settings), counting under `namespace`. */
async function limitedApp(redis: Redis, namespace: string): Promise<FastifyInstance> {
  const app = Fastify();
  installErrorHandling(app);
  await installRateLimits(app, rateLimitsSection.parse({ login_per_minute: 3 }), { redis, namespace, loopbackBind: false });
  app.post('/api/auth/login', async (_req, reply) => reply.code(401).send({ error: { code: 'invalid_credentials' } }));
  await app.ready();
  return app;
}

if (!REDIS) describe('rate limits on Redis', () => it.skip('skipped: set REDIS_URL to run the Redis suite', () => {}));
else
  describe('rate limits on Redis', () => {
    const closing: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of closing.splice(0).reverse()) await c();
    });
    /** The daemon's client, connected (without an offline queue, a command before that fails). */
    const client = async (url: string) => {
      const r = new Redis(url, DAEMON_REDIS_OPTIONS);
      r.on('error', () => undefined);
      closing.push(() => r.disconnect());
      if (r.status !== 'ready') await new Promise((res) => r.once('ready', res));
      return r;
    };

    it('a check sent as the link stalled lets its request through within a second (was: held for as long as Redis was away)', async () => {
      const relay: TcpRelay = await tcpRelay(REDIS);
      closing.push(() => relay.close());
      const app = await limitedApp(await client(relay.url), `ccotest-${randomBytes(4).toString('hex')}:rl:`);
      closing.push(() => app.close());
      const login = () => app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ann@example.com', password: 'guess' } });
      expect((await login()).statusCode).toBe(401);
      relay.swallow();
      const t0 = Date.now();
      expect((await login()).statusCode).toBe(401);
      expect(Date.now() - t0).toBeLessThan(1500);
    });

    it("two deployments on one Redis database count their own logins (their queue_prefix), not each other's", async () => {
      const tag = randomBytes(4).toString('hex');
      const staging = await limitedApp(await client(REDIS), `staging-${tag}:rl:`);
      const prod = await limitedApp(await client(REDIS), `prod-${tag}:rl:`);
      closing.push(() => staging.close(), () => prod.close());
      const login = (app: FastifyInstance) => app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ann@example.com', password: 'guess' } });
      const onStaging: number[] = [];
      for (let i = 0; i < 4; i++) onStaging.push((await login(staging)).statusCode);
      expect(onStaging).toEqual([401, 401, 401, 429]);
      // was: 429 on prod too
      expect((await login(prod)).statusCode).toBe(401);
      const r = await client(REDIS);
      for (const ns of [`staging-${tag}`, `prod-${tag}`]) {
        const keys = await r.keys(`${ns}:rl:*`);
        expect(keys.length, ns).toBeGreaterThan(0);
        await r.del(...keys);
      }
    });
  });
