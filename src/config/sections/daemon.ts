import { z } from 'zod';
import { LOG_LEVELS } from '../../core/logger.js';

export const daemonSection = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(3000),
    log_level: z.enum(LOG_LEVELS).default('info'),
    /** How long `cco` waits for a starting daemon to answer /health. */
    startup_timeout_ms: z.number().int().min(100).max(60_000).default(3000),
    /**
     * Behind a load balancer or ingress: take the client's address from X-Forwarded-For (rate
     * limits count per address). `true` trusts every hop; a string, those addresses or CIDRs
     * ("10.0.0.0/8, 127.0.0.1"). Off by default: the header is then ignored.
     */
    trust_proxy: z.union([z.boolean(), z.string().min(1)]).default(false),
  })
  .strict()
  .prefault({});
