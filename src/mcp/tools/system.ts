import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { BreakerState } from '../../gateway/resilience/breaker.js';
import { ALL_LLM_PROVIDERS, meansAllProviders, worstBreakerState } from '../../gateway/resilience/providers.js';
import type { GatewayOps, McpServices, Principal } from '../deps.js';
import { need, requireAdmin, run } from './result.js';

const loose = z.record(z.string(), z.unknown());

const BREAKER_STATES = ['closed', 'half_open', 'open'] as const satisfies readonly BreakerState[];

/** The worst breaker state over the LLM providers (the guides' `llm_circuit_breaker_state`); null without a gateway. */
function llmBreakerState(gw: GatewayOps | undefined): BreakerState | null {
  return gw ? worstBreakerState(Object.values(gw.breakers()).map((b) => b.state as BreakerState)) : null;
}

/** Every part's health, with a part that fails to answer reported as down rather than failing the whole status. */
async function components(svc: McpServices): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  await Promise.all(
    svc.parts().map(async (p) => {
      try {
        out[p.name] = { ...(await p.health()) };
      } catch (e) {
        out[p.name] = { status: 'down', error: (e as Error).message };
      }
    }),
  );
  return out;
}

/** `get_system_status`, `cache_stats`, `reset_circuit_breaker`. */
export function registerSystemTools(server: McpServer, svc: McpServices, p: Principal): void {
  server.registerTool(
    'get_system_status',
    {
      title: 'System status',
      description: 'The daemon at a glance: each part\'s health (gateway, sidecar, pipeline, improve, mcp, database), circuit breaker state per provider and over them all (llm_circuit_breaker_state: the worst of closed, half_open, open), queue depths, cache statistics, active agents, and the improvement cycles in progress.',
      inputSchema: {},
      outputSchema: z.looseObject({
        status: z.enum(['ok', 'degraded']),
        version: z.string(),
        uptime_seconds: z.number(),
        tenant: z.string(),
        components: z.record(z.string(), loose),
        llm_circuit_breaker_state: z.enum(BREAKER_STATES).nullable(),
        circuit_breakers: z.record(z.string(), loose),
        queues: z.record(z.string(), loose),
        cache: loose.nullable(),
        agents: loose.nullable(),
        improvement: z.looseObject({ active_cycles: z.array(loose), last_cycle: loose.nullable() }),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    // `components` also stands at the top of the result, where the guide's jq path reads it
    // (`.result.components.learning_engine.telemetry_buffer_size`); MCP results may carry more fields.
    async () => {
      const r = await run(async () => {
        const gw = typeof svc.gateway === 'string' ? undefined : svc.gateway;
        const sc = typeof svc.sidecar === 'string' ? undefined : svc.sidecar;
        const [parts, learning, cache, agents, active, recent] = await Promise.all([
          components(svc),
          svc.improve.learningEngine().catch((e: unknown) => ({ status: 'down', error: (e as Error).message })),
          gw?.cacheStats().catch(() => null) ?? null,
          sc?.status().then((s) => (s.agents as Record<string, unknown> | undefined) ?? null).catch(() => null) ?? null,
          svc.improve.list({ status: 'in_progress', limit: 20 }),
          svc.improve.list({ limit: 1 }),
        ]);
        const degraded = Object.values(parts).some((c) => c.status === 'down' || c.status === 'degraded');
        return {
          status: degraded ? 'degraded' : 'ok',
          version: svc.version,
          uptime_seconds: Math.round((Date.now() - svc.startedAt) / 1000),
          tenant: p.tenant,
          components: { ...parts, learning_engine: learning },
          llm_circuit_breaker_state: llmBreakerState(gw),
          circuit_breakers: gw ? gw.breakers() : {},
          queues: gw ? gw.queues() : {},
          cache,
          agents,
          improvement: { active_cycles: active.map((c) => ({ id: c.id, phase: c.phase, started_at: c.started_at, triggered_by: c.triggered_by })), last_cycle: recent[0] ? { ...recent[0] } : null },
        };
      });
      return r.isError ? r : { ...r, components: (r.structuredContent as { components: unknown }).components };
    },
  );

  server.registerTool(
    'cache_stats',
    {
      title: 'Gateway cache statistics',
      description: 'The gateway response cache: hits, misses, hit rate, size in use, maximum size, entries.',
      inputSchema: {},
      outputSchema: z.looseObject({ hits: z.number(), misses: z.number(), hitRate: z.number(), entries: z.number() }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => run(() => need(svc.gateway, 'the gateway').cacheStats()),
  );

  server.registerTool(
    'reset_circuit_breaker',
    {
      title: 'Reset a circuit breaker',
      description: `Closes the circuit breaker of a provider (e.g. "anthropic", "openai"), or of every LLM provider ("${ALL_LLM_PROVIDERS}"), so requests flow again at once instead of after the recovery timeout. Needs an admin key.`,
      inputSchema: { service: z.string().min(1).max(100).describe(`provider name as shown in get_system_status circuit_breakers, or "${ALL_LLM_PROVIDERS}" for all of them`) },
      outputSchema: z.looseObject({ reset: z.array(z.string()), circuit_breakers: z.record(z.string(), loose) }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ service }) =>
      run(async () => {
        requireAdmin(p, 'reset_circuit_breaker');
        const gw = need(svc.gateway, 'the gateway');
        const known = Object.keys(gw.breakers());
        const reset = gw.resetBreaker(service);
        // "llm" with no breaker yet: nothing was open, nothing to say
        if (reset.length === 0 && !meansAllProviders(service)) throw new AppError(404, 'unknown_service', `No circuit breaker for ${service}; known: ${known.join(', ') || '(none yet: breakers appear after the first request to a provider)'}`);
        return { reset, circuit_breakers: gw.breakers() };
      }),
  );
}
