/**
 * A running task belongs to one instance: `pipeline_tasks.owner` names it and `updated_at` is
 * its heartbeat, renewed every `renewMs` while the task runs. A lease not renewed for `ttlMs`
 * has expired and another instance may take the task; a fresh one is never taken over. The
 * instances' clocks must agree to well within `ttlMs`.
 */
export interface LeaseTimes {
  ttlMs: number;
  renewMs: number;
}

export const LEASE: LeaseTimes = { ttlMs: 30_000, renewMs: 5_000 };

// Owner names (`host:pid:scope...`) and whether one is known to have ended: shared with the
// improvement cycles' owners (core/instance-owner.ts).
export { newOwnerId, ownerGoneHere } from '../core/instance-owner.js';
