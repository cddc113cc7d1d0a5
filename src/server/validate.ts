import type { z } from 'zod';
import { AppError } from '../core/errors.js';

/**
 * Validates a request part with a zod schema; a failure is a 400 naming the first offending
 * field (`body.priority`, `query.timeout`, `params.issueId`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params' | 'headers'): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.length ? `${where}.${issue.path.map(String).join('.')}` : where;
  // `?limit=5&limit=9` arrives as an array: say so, not "expected number, received NaN"
  const given = where === 'query' && issue?.path.length === 1 ? (value as Record<string, unknown> | undefined)?.[String(issue.path[0])] : undefined;
  const message = Array.isArray(given) ? `${path}: given ${given.length} times; give it once` : issue ? `${path}: ${issue.message}` : `${where} is invalid`;
  throw new AppError(400, 'invalid_request', message, { field: path });
}
