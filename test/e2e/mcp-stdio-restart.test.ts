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
