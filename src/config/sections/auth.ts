import { z } from 'zod';

/**
 * `[auth]` in daemon.toml: people's logins (seed 004). Secrets come from the environment
 * (`JWT_SECRET`, `JWT_REFRESH_SECRET`, at least 32 characters each, the same on every instance of
 * a team); without them a single daemon generates its own and keeps them 0600 under CCO_HOME.
 */
export const authSection = z
  .object({
    /** Lifetime of an access token (`POST /api/auth/login`, `/api/auth/refresh`). */
    access_ttl_seconds: z.number().int().min(60).max(7 * 24 * 3600).default(3600),
    /** Lifetime of a refresh token. */
    refresh_ttl_seconds: z.number().int().min(300).max(365 * 24 * 3600).default(7 * 24 * 3600),
  })
  .strict()
  .prefault({});

/**
 * `[rate_limits]`: requests per minute per key — a user, an API key or token, or else the client's
 * address — on the daemon's API, and tighter limits for chosen routes. Requests from this machine
 * without credentials (curl, Claude Code's hooks) and the gateway's /v1 routes are not limited.
 */
export const rateLimitsSection = z
  .object({
    enabled: z.boolean().default(true),
    /** Per key, every `/api/*` route together; 0 = no such limit. */
    per_key_per_minute: z.number().int().min(0).max(10_000_000).default(1200),
    /** Per route and key: `routes = { "/api/requirements" = 60 }`. Login attempts are always limited. */
    routes: z.record(z.string().regex(/^\/api\//, 'a route path starting with /api/'), z.number().int().min(1).max(10_000_000)).default({}),
    /** Login attempts per minute per address (a guess at a password costs a request). */
    login_per_minute: z.number().int().min(1).max(10_000).default(10),
  })
  .strict()
  .prefault({});

export type RateLimitsConfig = z.infer<typeof rateLimitsSection>;
