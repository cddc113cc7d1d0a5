import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { RateLimitsConfig } from '../config/sections/auth.js';
import { AppError } from '../core/errors.js';
import { isLoopback } from './security.js';

const MINUTE = 60_000;
const LOGIN = '/api/auth/login';

interface Verdict {
  isAllowed: boolean;
  max?: number;
  remaining?: number;
  ttlInSeconds?: number;
  isExceeded?: boolean;
}

/**
 * This daemon's own count per key and minute, for the route limits (login above all). With the
 * counters in Redis, a Redis that fails lets requests through (`skipOnError`: the API stays up);
 * this count then still holds each daemon to the limit. With Redis up it is never the stricter
 * one: a daemon sees at most the requests Redis counts.
 */
class LocalWindows {
  private readonly windows = new LRUCache<string, { count: number; resetAt: number }>({ max: 50_000 });

  hit(key: string, max: number, now = Date.now()): Verdict {
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) this.windows.set(key, (w = { count: 0, resetAt: now + MINUTE }));
    w.count++;
    const ttlInSeconds = Math.max(1, Math.ceil((w.resetAt - now) / 1000));
    return { isAllowed: w.count <= max, max, remaining: Math.max(0, max - w.count), ttlInSeconds, isExceeded: w.count > max };
  }
}

/** Who a request counts against: a user, an API key, or else its address. */
function identity(req: FastifyRequest): string {
  const p = req.principal;
  if (p?.kind === 'user') return `user:${p.userId}`;
  if (p?.kind === 'token') return p.id;
  return `ip:${req.ip}`;
}

/**
 * Rate limits on the daemon's `/api/*` routes (@fastify/rate-limit's counters, in Redis when the
 * daemon has one so several instances count together):
 * - per key: `per_key_per_minute` over every route together, for people's tokens, team API keys
 *   and clients from other machines. The machine's own clients (loopback without credentials, the
 *   local access token: curl, Claude Code's hooks, the dashboard) are not limited;
 * - per route: `login_per_minute` for `POST /api/auth/login` per address (password guessing), and
 *   `routes` from the config, per key, for everyone.
 * Claude Code's hooks, the orchestration forwarder and the gateway's /v1 are never limited.
 * A refusal is a 429 with `retry-after` and the x-ratelimit headers. Should Redis fail, the route
 * limits still hold per daemon (LocalWindows); the per-key limit lets requests through meanwhile.
 */
export async function installRateLimits(
  app: FastifyInstance,
  cfg: RateLimitsConfig,
  o: {
    redis?: unknown;
    /**
     * The counters' Redis key prefix: the deployment's (its `[pipeline] queue_prefix`), so two
     * deployments sharing a Redis database do not count each other's logins (default `cco-rl:`).
     */
    namespace?: string;
    loopbackBind: boolean;
    /** Path prefixes left to their own limits: Claude Code's hooks and the agents' sidecar paths the daemon forwards. */
    exempt?: readonly string[];
  },
): Promise<void> {
  const exempt = o.exempt ?? ['/api/hooks/', '/api/orchestration/'];
  if (!cfg.enabled) return;
  await app.register(rateLimit, { global: false, skipOnError: true, nameSpace: o.namespace ?? 'cco-rl:', ...(o.redis ? { redis: o.redis } : {}) });
  const routeMax = (req: FastifyRequest): number | undefined => {
    const route = req.routeOptions.url ?? '';
    if (route === LOGIN) return cfg.login_per_minute;
    return cfg.routes[route];
  };
  // login: per address and account, so guesses at one account are bounded and nobody can lock
  // out everyone behind the same address
  const routeKey = (req: FastifyRequest): string => `route:${req.routeOptions.url ?? ''}|${req.routeOptions.url === LOGIN ? `ip:${req.ip}|${loginEmail(req)}` : identity(req)}`;
  const perRoute = app.createRateLimit({ timeWindow: MINUTE, max: (req) => routeMax(req) ?? 0, keyGenerator: routeKey });
  const local = o.redis ? new LocalWindows() : undefined;
  const perKey = app.createRateLimit({ timeWindow: MINUTE, max: cfg.per_key_per_minute, keyGenerator: identity });

  app.addHook('preHandler', async (req, reply) => {
    const path = req.routeOptions.url ?? '';
    if (!path.startsWith('/api/') || exempt.some((e) => path.startsWith(e))) return;
    const max = routeMax(req);
    if (max !== undefined) {
      enforce((await perRoute(req)) as Verdict, reply, `${req.method} ${path}`);
      if (local) enforce(local.hit(routeKey(req), max), reply, `${req.method} ${path}`);
    }
    const p = req.principal;
    // routes that check their own credentials have no principal: on a loopback bind their callers are this machine's
    const machineOwn = p?.kind === 'local' || (p?.kind === 'token' && p.id === 'local') || (!p && o.loopbackBind && isLoopback(req.ip.replace(/^::ffff:/, '')));
    if (cfg.per_key_per_minute > 0 && !machineOwn) enforce((await perKey(req)) as Verdict, reply, 'this key');
  });
}

function loginEmail(req: FastifyRequest): string {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 254) : '';
}

function enforce(v: Verdict, reply: FastifyReply, what: string): void {
  if (v.isAllowed || v.max === undefined) return;
  void reply.header('x-ratelimit-limit', v.max).header('x-ratelimit-remaining', v.remaining ?? 0).header('x-ratelimit-reset', v.ttlInSeconds ?? 0);
  if (!v.isExceeded) return;
  void reply.header('retry-after', v.ttlInSeconds ?? 60);
  throw new AppError(429, 'rate_limited', `Rate limit exceeded: ${v.max} requests per minute for ${what}; retry after ${v.ttlInSeconds ?? 60} s`, { details: { limit: v.max, retry_after_seconds: v.ttlInSeconds ?? 60 } });
}
