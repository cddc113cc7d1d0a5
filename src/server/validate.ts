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
  // a query value is text turned into a number, so "abc" is a range problem there; in a JSON body
  // a string or null where a number belongs is a type error, and zod's words say so
  const range = issue && isNumberIssue(issue, where === 'query' || typeof valueAt(value, issue.path) === 'number') ? numberRange(fieldSchema(schema, issue.path)) : undefined;
  const message = Array.isArray(given) ? `${path}: given ${given.length} times; give it once` : range ? `${path}: ${range}` : issue ? `${path}: ${issue.message}` : `${where} is invalid`;
  throw new AppError(400, 'invalid_request', message, { field: path });
}

/**
 * A query of the hot paths whose keys are checked by hand, not by zod's `.strict()`: a strict
 * object leaves zod's compiled fast path, and on the sidecar's wait and context routes that
 * showed in the tail (p99 +1–4 ms over five interleaved bench pairs, the same CPU). A key the
 * route does not take is the same 400 as `.strict()` gives (`?token=` is the security layer's).
 */
export function parseQuery<S extends z.ZodType>(schema: S, keys: ReadonlySet<string>, value: unknown): z.infer<S> {
  if (value && typeof value === 'object') {
    for (const k in value as Record<string, unknown>) {
      if (!keys.has(k) && k !== 'token') throw new AppError(400, 'invalid_request', `query: Unrecognized key: "${k}"`, { field: 'query' });
    }
  }
  return parseInput(schema, value, 'query');
}

/**
 * A query parameter given empty (`?timeout=`) is not given: coerced, it was 0 (a wait that
 * returned at once, a kill of every request in flight). `?token=` is the security layer's (the
 * access token, accepted on every route), not the route's. Copies only when there is one.
 */
function withoutBlanks(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const q = value as Record<string, unknown>;
  let drop = false;
  for (const k in q) if (q[k] === '' || k === 'token') drop = true;
  if (!drop) return value;
  const out: Record<string, unknown> = {};
  for (const k in q) if (q[k] !== '' && k !== 'token') out[k] = q[k];
  return out;
}

// ---- number ranges stated as the route's own ----

/** The parts of zod's internals read here (zod 4: `_zod.def` of schemas and checks). */
interface SchemaDef {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  checks?: { _zod: { def: { check?: string; format?: string; value?: unknown; inclusive?: boolean } } }[];
}
const defOf = (s: unknown): SchemaDef | undefined => (s as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** A number that failed its type or one of its bounds (`abc`, `1.5`, `0`, `1e20`). */
function isNumberIssue(issue: z.core.$ZodIssue, givenAsNumber: boolean): boolean {
  if (issue.code === 'too_big' || issue.code === 'too_small') return issue.origin === 'number' || issue.origin === 'int';
  return givenAsNumber && issue.code === 'invalid_type' && (issue.expected === 'number' || issue.expected === 'int');
}

/** The value at `path` inside objects and arrays (undefined where there is none). */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** The schema of the field at `path` inside objects (through optional, default, nullable, pipes). */
function fieldSchema(schema: unknown, path: readonly PropertyKey[]): unknown {
  let s: unknown = schema;
  for (let i = 0; ; ) {
    const def = defOf(s);
    if (!def) return undefined;
    if (def.innerType !== undefined) s = def.innerType;
    else if (def.type === 'pipe') s = defOf(def.in)?.type === 'transform' ? def.out : def.in;
    else if (i === path.length) return s;
    else if (def.type === 'object' && def.shape) s = def.shape[String(path[i++])];
    else return undefined;
  }
}

/**
 * What a number field takes, in words: "an integer from 1 to 500", "a number above 0 and at
 * most 720". Zod's own words named the first check that failed: for `?limit=99999999999999999999`
 * the safe-integer bound ("expected int to be <=9007199254740991"), not the route's 500.
 */
export function numberRange(schema: unknown): string | undefined {
  const def = defOf(schema);
  if (def?.type !== 'number') return undefined;
  let int = false;
  let low: { value: number; inclusive: boolean } | undefined;
  let high: { value: number; inclusive: boolean } | undefined;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && (d.format === 'safeint' || d.format === 'int32' || d.format === 'uint32')) int = true;
    const v = typeof d.value === 'number' ? d.value : Number.NaN;
    if (Number.isNaN(v)) continue;
    if (d.check === 'greater_than' && (!low || v >= low.value)) low = { value: v, inclusive: d.inclusive !== false };
    // `.max(Number.MAX_SAFE_INTEGER)` (a cursor) is no bound a client needs to hear of
    if (d.check === 'less_than' && v < Number.MAX_SAFE_INTEGER && (!high || v <= high.value)) high = { value: v, inclusive: d.inclusive !== false };
  }
  const kind = int ? 'an integer' : 'a number';
  if (low?.inclusive && high?.inclusive) return `${kind} from ${low.value} to ${high.value}`;
  const parts = [low && (low.inclusive ? `at least ${low.value}` : `above ${low.value}`), high && (high.inclusive ? `at most ${high.value}` : `below ${high.value}`)].filter(Boolean);
  // no bound: zod's own words ("expected number, received NaN") say as much
  return parts.length ? `${kind} ${parts.join(' and ')}` : undefined;
}
