import { z } from 'zod';

/** `[sidecar]` in daemon.toml. */
export const sidecarSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    /** 3001 by default; 0 lets the OS choose (also the default when the daemon's port is 0). */
    port: z.number().int().min(0).max(65535).optional(),
  })
  .passthrough()
  .prefault({});
