/**
 * The improve module's vocabulary and the narrow interface it needs from the gateway. The gateway
 * owns routing, analytics and breakers; this module only reads its telemetry and hands it new
 * config versions.
 */

/** Telemetry of one route over a time window, as the gateway's analytics computes it. */
import type { RouteStats } from '../gateway/analytics/queries.js';

export type { RouteStats };

/** One route of `model-routing.json` (the fields CCO may tune; others are kept untouched). */
export interface RouteConfig {
  /** A label for people; analytics records the route by its `pattern` (see `findRoute`). */
  name?: string;
  pattern: string;
  provider?: string;
  timeout_ms?: number;
  retries?: number;
  fallbacks?: unknown[];
  cache?: boolean;
  [field: string]: unknown;
}

export interface RoutingConfig {
  routes: RouteConfig[];
  [field: string]: unknown;
}

/** Who applies a routing config and why; `rollback`: it undoes a cycle's change. */
export interface ApplyMeta {
  by: string;
  reason: string;
  rollback?: boolean;
}

/** What the improve module needs from the gateway. */
export interface ImproveGateway {
  /** Per-route telemetry of `[since, until)` (epoch ms). */
  routeStats(window: { since: number; until: number }): Promise<RouteStats[]>;
  /** The routing config in force. */
  getRoutingConfig(): Promise<RoutingConfig> | RoutingConfig;
  /** Validates and puts a routing config in force (hot reload); throws with a clear message when invalid. */
  applyRoutingConfig(config: RoutingConfig, meta: ApplyMeta): Promise<void>;
  /** Optional: the gateway's own validator, run before applying. Returns problems, empty when valid. */
  validateRoutingConfig?(config: RoutingConfig): Promise<string[]> | string[];
}

export type OpportunityKind = 'timeouts' | 'errors' | 'latency_degradation' | 'cache_misses';

/** Something worth changing, found above a configured threshold. */
export interface Opportunity {
  route: string;
  kind: OpportunityKind;
  /** The measured value and the threshold it crossed. */
  metric: string;
  value: number;
  threshold: number;
  requests: number;
  detail: string;
}

/** The fields a proposal may change, and nothing else. */
export type TunableField = 'timeout_ms' | 'retries' | 'cache' | 'fallbacks';

/** One concrete change to one route. */
export interface ConfigChange {
  route: string;
  field: TunableField;
  from: unknown;
  to: unknown;
  reason: string;
}

/** A change left out of a proposal because another cycle in progress holds its route and field. */
export interface SkippedChange {
  route: string;
  field: TunableField;
  /** The cycle whose change of this field is being applied or monitored. */
  held_by: string;
  reason: string;
}

export interface Proposal {
  source: 'rules' | 'llm';
  changes: ConfigChange[];
  /** Set when the LLM was asked and its answer was refused or timed out (the rules were used instead). */
  llm_rejected?: string;
  /** Changes not made because another cycle in progress owns the field (they would stack). */
  skipped?: SkippedChange[];
}

export type CycleStatus = 'in_progress' | 'completed' | 'rolled_back' | 'cancelled' | 'failed' | 'interrupted';
export type CyclePhase = 'analyzing' | 'proposing' | 'validating' | 'applying' | 'monitoring' | 'done';

/** The monitoring verdict: each watched metric before and after the change. */
export interface MonitoringCheck {
  route: string;
  metric: 'error_rate' | 'timeout_rate' | 'latency_p95_ms';
  before: number;
  after: number;
  /** (after - before) / max(before, floor); positive is worse. */
  change: number;
  degraded: boolean;
}

/** A cycle as clients see it (REST, MCP, hub). */
export interface CycleView {
  id: string;
  status: CycleStatus;
  phase: CyclePhase;
  triggered_by: string;
  reason: string | null;
  window_hours: number;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  opportunities: Opportunity[];
  proposal: Proposal | null;
  previous_version: number | null;
  applied_version: number | null;
  rollback_version: number | null;
  monitoring_until: number | null;
  outcome: { checks: MonitoringCheck[]; verdict: string } | null;
  error: string | null;
  /** The instance running it (`host:pid:...`); null for a cycle of an older version. */
  owner: string | null;
}

export interface ConfigVersionView {
  id: number;
  created_at: number;
  created_by: string;
  reason: string;
  kind: 'baseline' | 'improvement' | 'rollback' | 'manual';
  cycle_id: string | null;
  config: RoutingConfig;
}

export const TERMINAL: readonly CycleStatus[] = ['completed', 'rolled_back', 'cancelled', 'failed', 'interrupted'];
