/**
 * What MCP costs on top of the operation it wraps, measured in one in-process daemon:
 * - `publish_event` as an MCP tool call (SDK client, Streamable HTTP, session) versus the same
 *   publish straight to the sidecar's REST route with an agent JWT (the baseline);
 * - `get_system_status` (every part's health, breakers, cache, cycles) and `list_agents`.
 * Sequential calls; p50/p95 per call and the ratio to the baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startDaemon } from '../src/daemon/daemon.js';

const N = Number(process.env.BENCH_CALLS ?? 300);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

async function time(fn: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn(i); // warm-up
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cco-bench-mcp-'));
  const env = { CCO_HOME: join(root, 'home'), CCO_CONFIG_DIR: join(root, 'cfg'), CCO_TMPDIR: join(root, 'tmp'), CCO_RUNTIME_DIR: join(root, 'run'), CCO_LOG_LEVEL: 'warn' };
  const d = await startDaemon({ env, port: 0, logLevel: 'warn' });
  const client = new Client({ name: 'bench', version: '1' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${d.accessToken}` } } }));
    const sidecar = d.modules.sidecar.url() as string;
    const jwt = await d.modules.sidecar.mintAgentToken?.({ agentId: 'bench', agentType: 'mcp-client', issues: '*' });
    const rest = await time(async (i) => {
      const r = await fetch(`${sidecar}/api/events/bench_rest`, { method: 'POST', headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'bench', data: { i } }) });
      await r.arrayBuffer();
    });
    const mcp = await time((i) => client.callTool({ name: 'publish_event', arguments: { event_type: 'bench_mcp', topic: 'bench', data: { i } } }));
    const status = await time(() => client.callTool({ name: 'get_system_status', arguments: {} }));
    const agents = await time(() => client.callTool({ name: 'list_agents', arguments: {} }));
    const base = pct(rest, 0.5);
    const rows: [string, number[]][] = [
      ['sidecar REST publish (baseline)', rest],
      ['MCP publish_event', mcp],
      ['MCP get_system_status', status],
      ['MCP list_agents', agents],
    ];
    console.log(`\n| operation (${N} sequential calls) | p50 ms | p95 ms | p50 vs baseline |`);
    console.log('|---|---|---|---|');
    for (const [name, xs] of rows) console.log(`| ${name} | ${pct(xs, 0.5).toFixed(2)} | ${pct(xs, 0.95).toFixed(2)} | ${(pct(xs, 0.5) / base).toFixed(2)}x |`);
  } finally {
    await client.close().catch(() => undefined);
    await d.close();
    rmSync(root, { recursive: true, force: true });
  }
}
