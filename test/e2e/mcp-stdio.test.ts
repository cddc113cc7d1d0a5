import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { TOOL_NAMES } from '../../src/mcp/server.js';
import { ensureBuilt, CLI } from './harness.js';
import { call, callError, startMcpDaemon, TEAM_KEY } from './mcp-harness.js';

let d: Awaited<ReturnType<typeof startMcpDaemon>>;
const clients: Client[] = [];

beforeAll(async () => {
  ensureBuilt();
  d = await startMcpDaemon();
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await d?.cleanup();
});

/** `node dist/cli/main.js mcp` as a stdio MCP server, in the daemon's CCO world. */
async function stdioClient(extraArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string }> {
  let err = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', '--port', String(d.daemon.port), '--no-start', ...extraArgs],
    env: { PATH: process.env.PATH ?? '', ...(d.env as Record<string, string>), ...extraEnv },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const client = new Client({ name: 'cco-stdio-e2e', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return { client, stderr: () => err };
}

describe('cco mcp (stdio) against a running daemon', () => {
  it('serves the same tools, authenticated with the local access token', async () => {
    const { client } = await stdioClient();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    const status = await call<{ tenant: string; components: Record<string, unknown> }>(client, 'get_system_status');
    expect(status.tenant).toBe('local');
    expect(status.components).toHaveProperty('sidecar');

    const pub = await call<{ cursor: number }>(client, 'publish_event', { event_type: 'stdio_ping', topic: 'e2e', data: { n: 1 } });
    const got = await call<{ events: { data: unknown }[] }>(client, 'wait_for_event', { event_type: 'stdio_ping', after: pub.cursor - 1, timeout_ms: 1000 });
    expect(got.events).toEqual([expect.objectContaining({ data: { n: 1 } })]);
    const cycles = await call<{ cycles: unknown[] }>(client, 'list_improvement_cycles');
    expect(Array.isArray(cycles.cycles)).toBe(true);
    expect(await client.ping()).toEqual({});
  });

  it("answers get_context from the folder of the Claude Code session that spawned it (ORCHESTRATOR_PROJECT_ROOT), not the daemon's", async () => {
    const project = mkdtempSync(join(tmpdir(), 'cco-stdio-project-'));
    try {
      writeFileSync(join(project, 'ledger.py'), 'def balance():\n    return 0\n');
      // the launcher registers the session's folder with the daemon
      const r = await fetch(`${d.daemon.url}/api/launcher/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cco-token': d.daemon.accessToken }, body: JSON.stringify({ cwd: project }) });
      expect(r.status).toBe(200);
      const { client } = await stdioClient([], { ORCHESTRATOR_PROJECT_ROOT: project });
      const got = await call<{ context: { project: { root: string } } }>(client, 'get_context', { issue_id: 'issue-7', agent_type: 'python-specialist', query: 'ledger' });
      expect(got.context.project.root).toBe(realpathSync(project));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('ends quietly when its client closes stdin (no warning about the stream it closed itself)', async () => {
    const child = spawn(process.execPath, [CLI, 'mcp', '--port', String(d.daemon.port), '--no-start'], { env: { PATH: process.env.PATH ?? '', ...(d.env as Record<string, string>) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipe', version: '1' } } });
    await until(() => out.includes('"id":1'));
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await until(() => out.includes('"id":2'));
    // let the bridge open its SSE stream, then close as a client does
    await new Promise((r) => setTimeout(r, 300));
    child.stdin.end();
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(err).not.toMatch(/SSE stream disconnected|aborted/i);
  });

  it('uses another tenant\'s key when given one', async () => {
    const { client } = await stdioClient(['--key', TEAM_KEY]);
    expect((await call<{ tenant: string }>(client, 'get_system_status')).tenant).toBe('team-b');
  });

  it('reports a wrong key as the daemon\'s 401', async () => {
    await expect(stdioClient(['--key', 'wrong-key-wrong-key'])).rejects.toThrow(/401|Unauthorized/);
  });

  it('a tool error keeps the session usable', async () => {
    const { client } = await stdioClient();
    expect(await callError(client, 'get_task', { task_id: 'task-missing' })).toMatch(/404|No task/);
    expect((await call<{ tenant: string }>(client, 'get_system_status')).tenant).toBe('local');
  });
});

describe('cco mcp with no daemon running', () => {
  it('starts the daemon, then serves its tools; --no-start says how to start it instead', async () => {
    const { cliWorld } = await import('./harness.js');
    const w = cliWorld();
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const srv = createServer();
        srv.listen(0, '127.0.0.1', () => {
          const p = (srv.address() as AddressInfo).port;
          srv.close(() => resolve(p));
        });
        srv.on('error', reject);
      });
      const refused = await w.run(['mcp', '--port', String(port), '--no-start'], { timeoutMs: 15_000 });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/Daemon is not running .*cco daemon start/);

      const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--port', String(port)], env: w.env as Record<string, string>, stderr: 'pipe', cwd: w.root });
      const client = new Client({ name: 'cco-stdio-autostart', version: '1.0.0' });
      clients.push(client);
      await client.connect(transport);
      expect((await call<{ tenant: string }>(client, 'get_system_status')).tenant).toBe('local');
      expect(w.daemons().map((x) => x.port)).toContain(port);
      await client.close();
    } finally {
      w.cleanup();
    }
  }, 60_000);
});

async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
