import { z } from 'zod';

/** `[dashboard]` in daemon.toml. */
export const dashboardSection = z
  .object({
    enabled: z.boolean().default(true),
    /** The web terminal (node-pty behind /terminal) is off unless switched on, and only on loopback. */
    terminal_enabled: z.boolean().default(false),
  })
  .passthrough()
  .prefault({});
