import { z } from 'zod';

/** One MCP API key: who presents it (its tenant) and what it may do. */
export const mcpKeySchema = z
  .object({
    /** Tenant the key belongs to; requests naming another tenant get 403 "Tenant access denied". */
    tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1-64)'),
    /** The key itself (prefer `key_env` so the file holds no secret). */
    key: z.string().min(16, 'at least 16 characters').optional(),
    /** Name of an environment variable holding the key. */
    key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
    /** Issues this key's agents may read and write through the sidecar tools; `*` = all. */
    issues: z.union([z.literal('*'), z.array(z.string().min(1).max(200))]).default('*'),
    /** May trigger/cancel improvement cycles and reset circuit breakers. */
    admin: z.boolean().default(false),
  })
  .strict()
  .refine((k) => k.key !== undefined || k.key_env !== undefined, { message: 'set key or key_env' });

/** `[mcp]` in daemon.toml: the MCP server at `/mcp` and `cco mcp`. */
export const mcpSection = z
  .object({
    enabled: z.boolean().default(true),
    /** Tenant of the daemon's local access token (always an admin key). */
    local_tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('local'),
    /** Extra keys, one table per key: `[[mcp.keys]] tenant = "team-a" key_env = "TEAM_A_MCP_KEY"`. */
    keys: z.array(mcpKeySchema).default([]),
    /** Open MCP sessions kept at most in all; beyond, the tenant holding the most loses its least recently used. */
    max_sessions: z.number().int().min(1).max(100_000).default(1000),
    /** Open MCP sessions one tenant keeps at most; beyond, that tenant's own least recently used is closed. */
    max_sessions_per_tenant: z.number().int().min(1).max(100_000).default(100),
    /** An idle session is closed after this many seconds. */
    session_idle_seconds: z.number().int().min(10).default(3600),
    /**
     * Longest `wait_for_event` long-poll, in milliseconds. A few seconds under 60 s, the official
     * MCP SDKs' default request timeout: a wait at its maximum answers `timed_out` instead of the
     * client giving up first. Longer waits are repeated calls with the returned cursor.
     */
    max_wait_ms: z.number().int().min(100).max(600_000).default(55_000),
    /** While `wait_for_event` waits for a client that sent a progress token: a progress notification this often (ms). */
    progress_interval_ms: z.number().int().min(100).max(600_000).default(15_000),
  })
  .strict()
  .prefault({});

export type McpConfig = z.infer<typeof mcpSection>;
export type McpKeyConfig = z.infer<typeof mcpKeySchema>;
