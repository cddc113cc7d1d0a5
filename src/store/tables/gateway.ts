import type { Generated } from 'kysely';

/** One finished gateway request (written in batches by the gateway's analytics writer). */
export interface GatewayRequestsTable {
  id: Generated<number>;
  request_id: string;
  ts: number; // epoch ms, request start
  endpoint: string;
  client_format: string;
  provider: string;
  route: string;
  model: string;
  upstream_model: string;
  status: number;
  error_type: string | null;
  stream: number; // 0/1
  cache_hit: number; // 0/1
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_input: number; // USD
  cost_output: number;
  cost_cache_write: number;
  cost_cache_read: number;
  cost_total: number;
  cost_saved: number;
  latency_ms: number;
  ttft_ms: number | null;
  retries: number;
  fallback_from: string | null;
  session_id: string | null;
  agent_id: string | null;
  parent_agent_id: string | null;
  client: string | null;
  project: string | null;
  cache_key: string | null;
}

/** Rows moved out of gateway_requests by /api/maintenance/archive-old-analytics. */
export type GatewayRequestsArchiveTable = GatewayRequestsTable;

export interface GatewayTables {
  gateway_requests: GatewayRequestsTable;
  gateway_requests_archive: GatewayRequestsArchiveTable;
}
