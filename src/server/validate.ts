import type { z } from 'zod';
import { AppError } from '../core/errors.js';

/**
 * Validates a request part with a zod schema; a failure is a 400 naming the first offending
 * field (`body.priority`, `query.timeout`, `params.issueId`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params' | 'headers'): z.infer<S> {
  const r = schema.safeParse(where === 'query' ? withoutBlanks(value) : value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.length ? `${where}.${issue.path.map(String).join('.')}` : where;
  // `?limit=5&limit=9` arrives as an array: say so, not "expected number, received NaN"
  const given = where === 'query' && issue?.path.length === 1 ? (value as Record<string, unknown> | undefined)?.[String(issue.path[0])] : undefined;
  const message = Array.isArray(given) ? `${path}: given ${given.length} times; give it once` : issue ? `${path}: ${issue.message}` : `${where} is invalid`;
  throw new AppError(400, 'invalid_request', message, { field: path });
}

/**
 * A query parameter given empty (`?timeout=`) is not given: coerced, it was 0 (a wait that
 * returned at once, a kill of every request in flight). Copies only when there is one.
 */
function withoutBlanks(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const q = value as Record<string, unknown>;
  let blank = false;
  for (const k in q) if (q[k] === '') blank = true;
  if (!blank) return value;
  const out: Record<string, unknown> = {};
  for (const k in q) if (q[k] !== '') out[k] = q[k];
  return out;
}
