import { findRoute } from './propose.js';
import type { ConfigChange, CycleView, Proposal, RoutingConfig, SkippedChange } from './types.js';

/** A route's field, keyed by the route's pattern so that naming the route by its `name` is the same field. */
function fieldKey(config: RoutingConfig, c: Pick<ConfigChange, 'route' | 'field'>): string {
  return `${findRoute(config, c.route)?.pattern ?? c.route}\u0000${c.field}`;
}

/**
 * The fields other cycles in progress have proposed (and may have applied or be monitoring), each
 * with the cycle that holds it. A second cycle changing such a field would stack on the first
 * (retries 0 -> 1 -> 2) and make each one's monitoring and rollback meaningless.
 */
export function heldFields(cycles: readonly CycleView[], self: string, config: RoutingConfig): Map<string, string> {
  const held = new Map<string, string>();
  for (const c of cycles) {
    if (c.id === self || c.status !== 'in_progress') continue;
    for (const change of c.proposal?.changes ?? []) held.set(fieldKey(config, change), c.id);
  }
  return held;
}

/** The proposal without the changes to held fields; those are listed in `skipped` with the holder. */
export function withoutHeld(proposal: Proposal, held: ReadonlyMap<string, string>, config: RoutingConfig): Proposal {
  const changes: ConfigChange[] = [];
  const skipped: SkippedChange[] = [...(proposal.skipped ?? [])];
  for (const c of proposal.changes) {
    const by = held.get(fieldKey(config, c));
    if (by === undefined) changes.push(c);
    else skipped.push({ route: c.route, field: c.field, held_by: by, reason: `${c.field} of route ${c.route} is held by cycle ${by} (in progress)` });
  }
  return skipped.length ? { ...proposal, changes, skipped } : proposal;
}
