import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import type { RunningDaemon } from '../../src/daemon/daemon.js';
import { tempCcoEnv } from '../../src/testing/temp-dirs.js';

export const TEAM_KEY = 'team-b-key-0123456789abcdef';
export const VIEWER_KEY = 'viewer-key-0123456789abcdef';

/**
 * A real daemon in this process (temp home, port 0) with two extra MCP keys: tenant `team-b`
 * (admin, all issues) and tenant `viewer` (no admin, issue `issue-7` only).
 */
export async function startMcpDaemon(extraToml = '', extraEnv: Record<string, string> = {}): Promise<{ daemon: RunningDaemon; env: Record<string, string | undefined>; cleanup(): Promise<void> }> {
  const t = tempCcoEnv();
  const env = { ...t.env, TEAM_B_MCP_KEY: TEAM_KEY, ...extraEnv };
  mkdirSync(t.env.CCO_CONFIG_DIR as string, { recursive: true });
  writeFileSync(
    join(t.env.CCO_CONFIG_DIR as string, 'daemon.toml'),
    `[daemon]
host = "127.0.0.1"
port = 0
log_level = "warn"

[sidecar]
project_root = ${JSON.stringify(t.root)}

[[mcp.keys]]
tenant = "team-b"
key_env = "TEAM_B_MCP_KEY"
admin = true

[[mcp.keys]]
tenant = "viewer"
key = "${VIEWER_KEY}"
issues = ["issue-7"]
${extraToml}`,
  );
  const daemon = await startDaemon({ env, port: 0 });
  return {
    daemon,
    env,
    async cleanup() {
      await daemon.close();
      t.cleanup();
    },
  };
}

/** An SDK client connected over Streamable HTTP with a bearer key. */
export async function httpClient(url: string, key: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'cco-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}`, ...headers } } }));
  return client;
}

/** The structured result of a tool call, or throws with the tool's error text. */
export async function call<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  return r.structuredContent as T;
}

/** The error text of a tool call that must fail. */
export async function callError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const r = await client.callTool({ name, arguments: args });
  if (!r.isError) throw new Error(`${name} succeeded: ${JSON.stringify(r.structuredContent)}`);
  return (r.content as { text: string }[]).map((c) => c.text).join('\n');
}

/** A row of the gateway's analytics table, as the gateway writes it (synthetic traffic for the improvement cycle). */
export function analyticsRow(route: string, ts: number, outcome: 'ok' | 'timeout', i: number) {
  return {
    request_id: `synthetic-${route}-${ts}-${i}`,
    ts,
    endpoint: 'messages',
    client_format: 'anthropic',
    provider: 'anthropic',
    route,
    model: 'claude-sonnet-4-5',
    upstream_model: 'claude-sonnet-4-5',
    status: outcome === 'ok' ? 200 : 504,
    error_type: outcome === 'ok' ? null : 'upstream_timeout',
    stream: 0,
    cache_hit: 0,
    input_tokens: 100,
    output_tokens: 50,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_input: 0,
    cost_output: 0,
    cost_cache_write: 0,
    cost_cache_read: 0,
    cost_total: 0.001,
    cost_saved: 0,
    latency_ms: outcome === 'ok' ? 900 + (i % 10) * 20 : 300_000,
    ttft_ms: null,
    retries: 0,
    fallback_from: null,
    session_id: null,
    agent_id: null,
    parent_agent_id: null,
    client: 'synthetic',
    project: null,
  };
}

/** n rows spread over (end - spanMs, end], the first `share` of them timeouts. */
export function syntheticTraffic(route: string, n: number, share: number, end: number, spanMs: number) {
  const cut = Math.round(n * share);
  return Array.from({ length: n }, (_, i) => analyticsRow(route, end - spanMs + Math.floor(((i + 1) * spanMs) / n) - 1, i < cut ? 'timeout' : 'ok', i));
}
