import type { Generated } from 'kysely';

/** One improvement cycle: its state machine, what it found, what it changed and how it ended. */
export interface ImproveCyclesTable {
  id: string; // cyc_<time36>_<rand>
  status: string; // in_progress | completed | rolled_back | cancelled | failed | interrupted
  phase: string; // analyzing | proposing | validating | applying | monitoring | done
  triggered_by: string;
  reason: string | null;
  window_hours: number;
  started_at: number; // epoch ms
  updated_at: number;
  finished_at: number | null;
  /** JSON: RouteStats[] of the analysed window. */
  baseline: string | null;
  /** JSON: Opportunity[]. */
  opportunities: string | null;
  /** JSON: Proposal ({source, changes[]}). */
  proposal: string | null;
  previous_version: number | null;
  applied_version: number | null;
  rollback_version: number | null;
  monitoring_until: number | null;
  /** JSON: the monitoring verdict (metrics compared). */
  outcome: string | null;
  error: string | null;
  /** The instance that runs it (null: an older version's); `updated_at` is its heartbeat. */
  owner: string | null;
}

/** Every routing/cache config version ever applied by CCO, with who and why. */
export interface ImproveConfigVersionsTable {
  id: Generated<number>;
  created_at: number;
  created_by: string;
  reason: string;
  /** baseline | improvement | rollback | manual */
  kind: string;
  cycle_id: string | null;
  /** JSON: the whole routing config. */
  config: string;
}

/** The history of a cycle, one row per step (phase changes, opportunities, checks, rollbacks). */
export interface ImproveCycleEventsTable {
  id: Generated<number>;
  cycle_id: string;
  ts: number;
  kind: string;
  /** JSON. */
  data: string;
}

export interface ImproveTables {
  improve_cycles: ImproveCyclesTable;
  improve_config_versions: ImproveConfigVersionsTable;
  improve_cycle_events: ImproveCycleEventsTable;
}
