import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, cliWorld, ensureBuilt } from './harness.js';
import { call } from './mcp-harness.js';

let w: ReturnType<typeof cliWorld>;
const clients: Client[] = [];

beforeAll(() => {
  ensureBuilt();
  w = cliWorld();
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  w?.cleanup();
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `cco mcp --port <port> [args]` as a stdio MCP server, with the SDK's stdio client. */
async function bridge(port: number, args: string[]): Promise<{ client: Client; stderr: () => string }> {
  let err = '';
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--port', String(port), ...args], env: w.env as Record<string, string>, stderr: 'pipe', cwd: w.root });
  transport.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const client = new Client({ name: 'cco-stdio-restart', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return { client, stderr: () => err };
}

it('cco mcp keeps working across a daemon killed with -9: a new session, the daemon started again unless --no-start', async () => {
  const port = await freePort();
  const started = await w.run(['daemon', 'start', '--port', String(port)]);
  expect(started.code, started.stderr).toBe(0);
  const noStart = await bridge(port, ['--no-start']);
  const autoStart = await bridge(port, []);
  expect((await call<{ tenant: string }>(noStart.client, 'get_system_status')).tenant).toBe('local');
  expect((await call<{ tenant: string }>(autoStart.client, 'get_system_status')).tenant).toBe('local');

  const first = w.daemons()[0]?.pid as number;
  process.kill(first, 'SIGKILL');
  for (let i = 0; i < 100 && alive(first); i++) await new Promise((r) => setTimeout(r, 50));

  // --no-start: a clear error while the daemon is down, and the bridge stays usable
  await expect(noStart.client.callTool({ name: 'cache_stats', arguments: {} })).rejects.toThrow(/daemon at .* is not running; start it with `cco daemon start --port \d+`/);

  // the default bridge starts the daemon again, opens a new session and answers the call
  expect((await call<{ tenant: string }>(autoStart.client, 'get_system_status')).tenant).toBe('local');
  const second = w.daemons()[0]?.pid as number;
  expect(second).not.toBe(first);
  expect(alive(second)).toBe(true);

  // the --no-start bridge finds its session gone from the new daemon and opens a new one
  expect((await call<{ tenant: string }>(noStart.client, 'get_system_status')).tenant).toBe('local');
  expect(await noStart.client.ping()).toEqual({});
  expect(noStart.stderr()).toMatch(/new MCP session/);
  expect(noStart.stderr()).not.toMatch(/Session not found/);
}, 90_000);

/** One daemon per home: the one a previous test left is stopped first. */
async function stopDaemons(): Promise<void> {
  for (const d of w.daemons()) await w.run(['daemon', 'stop', '--port', String(d.port)]);
}

it('a call in flight when the daemon is killed is answered with an error to call again, not left to the client\'s timeout', async () => {
  await stopDaemons();
  const port = await freePort();
  expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
  const b = await bridge(port, ['--no-start']);
  expect((await call<{ tenant: string }>(b.client, 'get_system_status')).tenant).toBe('local');
  const t0 = Date.now();
  // a long wait: still running when the daemon dies
  const waiting = b.client.callTool({ name: 'wait_for_event', arguments: { event_type: 'never_published', timeout_ms: 30000 } }, undefined, { timeout: 60_000 }).then(
    (r) => ({ answered: r }),
    (e: unknown) => ({ error: String((e as Error).message) }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const pid = w.daemons()[0]?.pid as number;
  process.kill(pid, 'SIGKILL');
  const out = await waiting;
  expect(out).toMatchObject({ error: expect.stringMatching(/cco daemon at .* stopped during this call; call again/) });
  expect(Date.now() - t0).toBeLessThan(15_000);
}, 60_000);

it('stdin closing after a call (a one-shot script) lets the call be answered before the bridge ends', async () => {
  await stopDaemons();
  const port = await freePort();
  expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'one-shot', version: '1' } } };
  const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
  const callStats = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'cache_stats', arguments: {} } };
  const r = await w.run(['mcp', '--port', String(port), '--no-start'], { input: [init, initialized, callStats].map((m) => JSON.stringify(m)).join('\n') + '\n' });
  const replies = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id?: number; result?: unknown; error?: { message: string } });
  // was: "This operation was aborted" for both
  expect(replies.find((m) => m.id === 1)?.result).toBeDefined();
  expect(replies.find((m) => m.id === 2)).toMatchObject({ result: expect.anything() });
  expect(r.stdout).not.toContain('aborted');
}, 60_000);

it('a request over the daemon\'s 4 MB is refused by the bridge with the limit, not taken for a daemon that is down', async () => {
  await stopDaemons();
  const port = await freePort();
  expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
  const before = w.daemons().map((d) => d.pid);
  const b = await bridge(port, []);
  const big = await b.client.callTool({ name: 'store_result', arguments: { issue_id: 'issue-big', agent_type: 'python-specialist', agent_id: 'python-specialist-1', result: { status: 'success', summary: 'x'.repeat(5 * 1024 * 1024) } } }).then(
    () => 'answered',
    (e: unknown) => String((e as Error).message),
  );
  expect(big).toMatch(/Request too large: 5\.\d MB; the cco daemon takes MCP requests of at most 4 MB/);
  // no second daemon started, and the bridge goes on
  expect(b.stderr()).not.toMatch(/is down; starting it/);
  expect(w.daemons().map((d) => d.pid)).toEqual(before);
  expect((await call<{ tenant: string }>(b.client, 'get_system_status')).tenant).toBe('local');
}, 60_000);
