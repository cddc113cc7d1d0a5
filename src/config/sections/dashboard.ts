import { z } from 'zod';

/** `[dashboard]` in daemon.toml. */
export const dashboardSection = z
  .object({
    enabled: z.boolean().default(true),
    /** The web terminal (node-pty behind /terminal) is off unless switched on, and only on loopback. */
    terminal_enabled: z.boolean().default(false),
    /** The shell the web terminal runs; empty means `$SHELL`, then /bin/bash (cmd.exe on Windows). */
    terminal_shell: z.string().max(4096).default(''),
    /** At most this many web terminals at once (each is a shell process). */
    terminal_max_sessions: z.number().int().min(1).max(32).default(4),
    /** Where the built SPA lives; empty means the package's own `web/dist`. */
    web_root: z.string().max(4096).default(''),
  })
  .strict()
  .prefault({});
