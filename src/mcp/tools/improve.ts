import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { McpServices, Principal } from '../deps.js';
import { AppError } from '../../core/errors.js';
import { requireAdmin, run } from './result.js';

const loose = z.record(z.string(), z.unknown());
const who = (p: Principal): string => `mcp:${p.tenant}`;

/** One cycle, or the same 404 as cancel_improvement_cycle names an unknown id with. */
async function oneCycle(svc: McpServices, id: string) {
  const c = await svc.improve.get(id);
  if (!c) throw new AppError(404, 'cycle_not_found', `No improvement cycle ${id}; list_improvement_cycles without cycle_id lists the known ones`);
  return c;
}

/** `trigger_improvement_cycle`, `cancel_improvement_cycle`, `list_improvement_cycles`. */
export function registerImproveTools(server: McpServer, svc: McpServices, p: Principal): void {
  server.registerTool(
    'trigger_improvement_cycle',
    {
      title: 'Trigger an improvement cycle',
      description: 'Starts a self-improvement cycle: analyse the gateway telemetry of the last `analysis_window_hours` per route (latency, errors, timeouts, cache misses), find opportunities above the thresholds, propose and validate a routing/cache config change, apply it as a new config version, monitor it for MONITORING_DURATION_SECONDS and roll back automatically past ROLLBACK_DEGRADATION_THRESHOLD. Returns the cycle at once (follow it with list_improvement_cycles). Needs an admin key.',
      inputSchema: {
        analysis_window_hours: z.number().positive().max(24 * 90).optional().describe('hours of telemetry to analyse (default: [improve] analysis_window_hours, 24)'),
        reason: z.string().max(2000).optional(),
      },
      outputSchema: z.looseObject({ cycle: loose }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ analysis_window_hours, reason }) =>
      run(async () => {
        requireAdmin(p, 'trigger_improvement_cycle');
        const cycle = await svc.improve.trigger({ by: who(p), ...(analysis_window_hours ? { windowHours: analysis_window_hours } : {}), ...(reason ? { reason } : {}) });
        return { cycle: { ...cycle } };
      }),
  );

  server.registerTool(
    'cancel_improvement_cycle',
    {
      title: 'Cancel an improvement cycle',
      description: 'Cancels a cycle in progress (e.g. one stuck "in_progress"); a change it already applied is reverted as a new config version. Needs an admin key.',
      inputSchema: { cycle_id: z.string().min(1).max(100) },
      outputSchema: z.looseObject({ cycle: loose }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ cycle_id }) =>
      run(async () => {
        requireAdmin(p, 'cancel_improvement_cycle');
        return { cycle: { ...(await svc.improve.cancel(cycle_id, who(p))) } };
      }),
  );

  server.registerTool(
    'list_improvement_cycles',
    {
      title: 'List improvement cycles',
      description: 'Improvement cycles, newest first: status, opportunities found, the proposed changes, config versions applied and rolled back, the monitoring verdict. With `cycle_id`, that cycle with its step-by-step history. Also the config versions and the thresholds in force.',
      inputSchema: {
        status: z.enum(['in_progress', 'completed', 'rolled_back', 'cancelled', 'failed', 'interrupted']).optional(),
        cycle_id: z.string().min(1).max(100).optional(),
        limit: z.number().int().min(1).max(500).default(20),
      },
      outputSchema: z.looseObject({ cycles: z.array(loose), config_versions: z.array(loose), settings: loose }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ status, cycle_id, limit }) =>
      run(async () => {
        const cycles = cycle_id ? [await oneCycle(svc, cycle_id)] : await svc.improve.list({ ...(status ? { status } : {}), limit });
        const versions = await svc.improve.versions(limit);
        return { cycles: cycles.map((c) => ({ ...c })), config_versions: versions.map((v) => ({ ...v })), settings: { ...svc.improve.settings() } };
      }),
  );
}
