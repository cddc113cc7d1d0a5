import { z } from 'zod';
import { LOG_LEVELS } from '../../core/logger.js';

export const daemonSection = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(3000),
    log_level: z.enum(LOG_LEVELS).default('info'),
    /** How long `cco` waits for a starting daemon to answer /health. */
    startup_timeout_ms: z.number().int().min(100).max(60_000).default(3000),
  })
  .strict()
  .prefault({});
