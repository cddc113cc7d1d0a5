import { z } from 'zod';

/**
 * Identifiers that become path segments (`results/<issue>/<agent-type>.json`) or cache keys.
 * A conservative alphabet and no leading dot make traversal (`..`, `/`, `\`, NUL) impossible by
 * construction rather than by later path checks.
 */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const issueIdSchema = z
  .string()
  .regex(ID_RE, 'must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine((s) => !s.includes('..'), 'must not contain ".."');

export const agentTypeSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a kebab-case agent type (lowercase letters, digits and "-")');

export const agentIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'must be letters, digits and . _ : @ -');

export const eventTypeSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be 1-100 characters of letters, digits, ".", "_", ":" or "-"');

/** A topic: no spaces, control characters or commas (`filter=topic:X,publisher:Y` splits on commas, so a topic with one could never be waited on). */
export const topicSchema = z.string().min(1).max(200).regex(/^[^\s\p{Cc},]+$/u, 'must not contain spaces, commas or control characters');
