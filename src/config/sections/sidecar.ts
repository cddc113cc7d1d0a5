import { z } from 'zod';

/** `[sidecar]` in daemon.toml. */
export const sidecarSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    /** Unset: the daemon's port + 1 (3001 by default); 0 lets the OS choose (also when the daemon's port is 0). See sidecarPort(). */
    port: z.number().int().min(0).max(65535).optional(),
    /** Project whose files feed agent context; empty = the daemon's working directory. */
    project_root: z.string().default(''),
    /** Further roots a request may name with `?root=` (the project root is always allowed). */
    allowed_roots: z.array(z.string().min(1)).default([]),
    /** Lifetime of agent tokens minted by `POST /api/agents/spawn` unless the request says. */
    token_ttl_seconds: z.number().int().min(60).max(7 * 24 * 3600).default(4 * 3600),
    /** Largest accepted result body (bytes). */
    max_result_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Byte budget of one context response (file contents are further bounded per agent type). */
    context_max_bytes: z.number().int().min(4096).max(16 * 1024 * 1024).default(256 * 1024),
    /** Default byte budget for file contents when an agent's rules give none. */
    context_file_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(96 * 1024),
    /** Longest a long-poll wait may block. */
    wait_max_ms: z.number().int().min(100).max(10 * 60_000).default(120_000),
    /** Days a published event is kept (pruned hourly; the newest is always kept); 0 keeps every event. */
    event_retention_days: z.number().int().min(0).max(36_500).default(30),
    /** Days an agent is kept once its token expired and it was last seen; 0 keeps every agent. */
    agent_retention_days: z.number().int().min(0).max(36_500).default(30),
  })
  .strict()
  .prefault({});

export type SidecarConfig = z.infer<typeof sidecarSection>;
