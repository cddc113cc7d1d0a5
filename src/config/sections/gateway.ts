import { z } from 'zod';

/** `[gateway]` in daemon.toml. */
export const gatewaySection = z
  .object({
    enabled: z.boolean().default(true),
    /** Cache bound in MB (`--cache-size`). */
    cache_size_mb: z.number().min(0).max(1_000_000).default(500),
    /** Cache entry lifetime in seconds; 0 disables the cache (`--cache-ttl`). */
    cache_ttl_seconds: z.number().int().min(0).default(3600),
    /** Path of model-routing.json; empty means `<config dir>/model-routing.json`. */
    routing_config: z.string().default(''),
    /** Outbound HTTP proxy for provider calls (`--http-proxy`, HTTPS_PROXY). */
    http_proxy: z.string().default(''),
    /** A gateway request slower than this (ms) is logged at warn ("Response time exceeded 30s"); 0 turns that off. */
    slow_request_warn_ms: z.number().int().min(0).default(30_000),
  })
  .strict()
  .prefault({});
