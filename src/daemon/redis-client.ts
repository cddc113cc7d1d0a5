import type { RedisOptions } from 'ioredis';

/**
 * The daemon's own Redis connection (team mode): rate-limit counters and the /health check.
 * - No offline queue: while Redis is away a command fails at once (a rate limit lets the request
 *   through, /health says down) instead of waiting for a reconnect.
 * - socketTimeout: a link that stops answering is cut and reconnected; without it one that
 *   accepted and never answered kept the daemon degraded for good.
 * - commandTimeout: a command sent just before the link stalled fails after half a second; a
 *   rate limit checked on it had held its request for as long as Redis was away.
 */
export const DAEMON_REDIS_OPTIONS: RedisOptions = { maxRetriesPerRequest: 1, connectTimeout: 1000, enableOfflineQueue: false, socketTimeout: 5000, commandTimeout: 500 };
