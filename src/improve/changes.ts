import { z } from 'zod';
import type { ImproveConfig } from '../config/sections/improve.js';
import { findRoute } from './propose.js';
import type { ConfigChange, RoutingConfig } from './types.js';

type Limits = Pick<ImproveConfig, 'max_timeout_ms' | 'max_retries'>;

/** The only values each tunable field may take (an LLM's proposal is held to the same schema). */
export function fieldSchemas(limits: Limits) {
  return {
    timeout_ms: z.number().int().min(1000).max(limits.max_timeout_ms),
    retries: z.number().int().min(0).max(limits.max_retries),
    cache: z.boolean(),
    fallbacks: z.array(z.string().min(1).max(200)).max(10),
  } as const;
}

/**
 * Checks each change before anything is applied: the route exists, the field is tunable, the value
 * is within bounds, and `from` is still what the config holds (so a change computed from stale
 * config is refused rather than silently overwriting someone's edit). Returns the problems found.
 */
export function validateChanges(config: RoutingConfig, changes: readonly ConfigChange[], limits: Limits): string[] {
  const problems: string[] = [];
  const schemas = fieldSchemas(limits);
  if (changes.length === 0) problems.push('the proposal changes nothing');
  for (const c of changes) {
    const r = findRoute(config, c.route);
    if (!r) {
      problems.push(`route ${c.route}: no such route in the routing config`);
      continue;
    }
    const schema = (schemas as Record<string, z.ZodType>)[c.field];
    if (!schema) {
      problems.push(`route ${c.route}: field ${c.field} may not be changed`);
      continue;
    }
    const v = schema.safeParse(c.to);
    if (!v.success) problems.push(`route ${c.route}: ${c.field} = ${JSON.stringify(c.to)}: ${v.error.issues[0]?.message ?? 'invalid'}`);
    if (c.field === 'fallbacks' && Array.isArray(c.to) && typeof r.model === 'string' && c.to.includes(r.model)) {
      problems.push(`route ${c.route}: model ${r.model} cannot also be its own fallback`);
    }
    if (JSON.stringify(r[c.field] ?? null) !== JSON.stringify(c.from ?? null)) {
      problems.push(`route ${c.route}: ${c.field} is ${JSON.stringify(r[c.field] ?? null)} now, not ${JSON.stringify(c.from)} (config changed meanwhile)`);
    }
  }
  return problems;
}

/** A copy of `config` with the changes applied (the input is not touched). */
export function applyChanges(config: RoutingConfig, changes: readonly ConfigChange[]): RoutingConfig {
  const next = structuredClone(config);
  for (const c of changes) {
    const r = findRoute(next, c.route);
    if (r) (r as Record<string, unknown>)[c.field] = structuredClone(c.to);
  }
  return next;
}

/** A changed field a rollback did not touch, because it no longer holds the cycle's value. */
export interface LeftAlone {
  route: string;
  field: ConfigChange['field'];
  /** The cycle's value, which the field would need to hold to be undone. */
  expected: unknown;
  /** What it holds now (null when unset or when the route is gone). */
  found: unknown;
  detail: string;
}

/**
 * A copy of `config` with the changes undone: each changed field back to its `from` (removed when
 * it was unset). A field is only moved back while it still holds this cycle's `to`: someone else's
 * later edit (a person, a reload) is left alone and listed, never overwritten with a stale value.
 */
export function revertChanges(config: RoutingConfig, changes: readonly ConfigChange[]): { config: RoutingConfig; leftAlone: LeftAlone[] } {
  const next = structuredClone(config);
  const leftAlone: LeftAlone[] = [];
  for (const c of changes) {
    const r = findRoute(next, c.route);
    const found = r ? (r[c.field] ?? null) : null;
    if (!r || JSON.stringify(found) !== JSON.stringify(c.to ?? null)) {
      const now = r ? `is ${JSON.stringify(found)} now` : 'is gone (route removed)';
      leftAlone.push({ route: c.route, field: c.field, expected: c.to, found, detail: `${c.field} of route ${c.route} ${now}, not this cycle's ${JSON.stringify(c.to)}; left as it is` });
      continue;
    }
    if (c.from === null || c.from === undefined) delete r[c.field];
    else (r as Record<string, unknown>)[c.field] = structuredClone(c.from);
  }
  return { config: next, leftAlone };
}

/** Whether every change's new value is what the config holds now. */
export function changesInForce(config: RoutingConfig, changes: readonly ConfigChange[]): boolean {
  return changes.every((c) => {
    const r = findRoute(config, c.route);
    return r !== undefined && JSON.stringify(r[c.field] ?? null) === JSON.stringify(c.to ?? null);
  });
}
