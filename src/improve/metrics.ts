import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { CycleView, Opportunity } from './types.js';

/** What the engine reports to Prometheus: each analysis's findings and each cycle's end. */
export interface CycleMetrics {
  analyzed(opportunities: readonly Opportunity[]): void;
  /** A cycle reached its final status (called once per cycle). */
  ended(cycle: CycleView): void;
}

/**
 * The series the seed's guide diagnoses with: `opportunities_identified` (a counter, so exposed
 * with `_total`, by kind; flat over a window means "No Opportunities Identified"),
 * `cycle_duration_seconds` ("Slow Cycle Execution") and cycles by final status, whose
 * `rolled_back` share is the rollback rate ("High Rollback Rate": more than 30%).
 */
export function createCycleMetrics(registry: Registry): CycleMetrics {
  const registers = [registry];
  const opportunities = new Counter({ name: 'opportunities_identified_total', help: 'Improvement opportunities found by cycle analyses, by kind', labelNames: ['kind'], registers });
  const duration = new Histogram({
    name: 'cycle_duration_seconds',
    help: 'Improvement cycle duration from trigger to final status (monitoring included), by final status',
    labelNames: ['status'],
    buckets: [1, 5, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400],
    registers,
  });
  const cycles = new Counter({ name: 'improvement_cycles_total', help: 'Improvement cycles finished, by final status (completed, rolled_back, cancelled, failed, interrupted)', labelNames: ['status'], registers });
  return {
    analyzed(found) {
      for (const o of found) opportunities.inc({ kind: o.kind });
    },
    ended(c) {
      cycles.inc({ status: c.status });
      duration.observe({ status: c.status }, Math.max(0, ((c.finished_at ?? Date.now()) - c.started_at) / 1000));
    },
  };
}
