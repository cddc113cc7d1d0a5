import { z } from 'zod';

export const hooksSection = z
  .object({
    enabled: z.boolean().default(true),
    /** Read-only tools (Read, Glob, Grep, LS, WebFetch ...) are allowed without asking. */
    auto_allow_read: z.boolean().default(true),
    /** Create/update/delete tools (Write, Edit, Bash ...) ask the user first. */
    require_cud_confirmation: z.boolean().default(false),
    /** Seconds Claude Code waits for a hook before going on without it. */
    timeout_seconds: z.number().int().min(1).max(60).default(5),
    /** Days a recorded hook event is kept (pruned hourly); 0 keeps every event. */
    retention_days: z.number().int().min(0).max(36_500).default(30),
  })
  .strict()
  .prefault({});
