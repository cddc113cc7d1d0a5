import type { AgentDefinition } from '../agents/types.js';
import type { ImproveApi } from '../improve/api.js';
import type { PartHealth } from '../server/module.js';

/**
 * The narrow operations the MCP tools wrap, one interface per owning module. `adapters.ts` builds
 * them from the daemon's modules; a missing operation is reported to the caller, never faked.
 */

/** Who is calling: resolved from the API key. */
export interface Principal {
  tenant: string;
  /** May trigger/cancel improvement cycles and reset circuit breakers. */
  admin: boolean;
  /** Issues the caller's sidecar operations may touch. */
  issues: '*' | string[];
  /** `local` (the daemon's access token), `env:SELF_BUILDING_MCP_API_KEY` or `key:<n>` (the n-th configured key), for logs and audit. */
  keyId: string;
  /** The folder the client's MCP session works in (header `x-cco-project-root`, sent by `cco`'s Claude Code): get_context's default root. */
  projectRoot?: string | undefined;
}

/** The sidecar's agent operations, performed as an agent of the caller's scope. */
export interface SidecarOps {
  getContext(p: Principal, a: { issue_id: string; agent_type: string; query?: string; root?: string }, signal?: AbortSignal): Promise<Record<string, unknown>>;
  storeResult(p: Principal, a: { issue_id: string; agent_type: string; agent_id?: string; result: Record<string, unknown> }, signal?: AbortSignal): Promise<Record<string, unknown>>;
  publishEvent(p: Principal, a: { event_type: string; topic?: string; issue_id?: string; publisher?: string; data?: unknown }, signal?: AbortSignal): Promise<Record<string, unknown>>;
  waitForEvent(p: Principal, a: { event_type: string; topic?: string; publisher?: string; issue_id?: string; after?: number; timeout_ms: number }, signal?: AbortSignal): Promise<Record<string, unknown>>;
  /** The sidecar's `/status` (agents, storage, events, performance). */
  status(): Promise<Record<string, unknown>>;
}

export interface GatewayOps {
  cacheStats(): Promise<Record<string, unknown>>;
  breakers(): Record<string, { state: string; [k: string]: unknown }>;
  /** Closes the breaker(s) of a provider; returns the names reset (empty when unknown). */
  resetBreaker(service: string): string[];
  queues(): Record<string, { depth: number; inFlight: number }>;
}

/** Whose pipeline tasks: a non-admin requester sees only the tasks it submitted. */
export interface TaskRequester {
  userId: string;
  admin: boolean;
}

export interface PipelineOps {
  submit(input: { requirement: string; priority?: number | string; output_format?: string }, by?: TaskRequester): Promise<Record<string, unknown>>;
  getTask(id: string, by?: TaskRequester): Promise<Record<string, unknown> | undefined>;
  /** Reruns a failed, cancelled or validation-rejected task from its failed stage: the task, queued again (404 unknown, 409 any other status). */
  retry(id: string, by?: TaskRequester): Promise<Record<string, unknown>>;
}

export interface AgentsOps {
  list(): readonly AgentDefinition[];
}

/** A part's health, for `get_system_status`. */
export interface PartReporter {
  name: string;
  health(): Promise<PartHealth> | PartHealth;
}

/** Everything the tools need. A `string` in place of an interface says why it is unavailable. */
export interface McpServices {
  version: string;
  startedAt: number;
  parts: () => readonly PartReporter[];
  sidecar: SidecarOps | string;
  gateway: GatewayOps | string;
  pipeline: PipelineOps | string;
  agents: AgentsOps;
  improve: ImproveApi;
  maxWaitMs: number;
  /** A long `wait_for_event` reports progress this often (ms) to a client that sent a progress token. */
  progressIntervalMs: number;
}
