import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, httpClient, startMcpDaemon, TEAM_KEY, VIEWER_KEY } from './mcp-harness.js';

const SEED_KEY = 'seed-mcp-key-0123456789abcdef';

let d: Awaited<ReturnType<typeof startMcpDaemon>>;
let local: Client;

beforeAll(async () => {
  d = await startMcpDaemon(
    `
[mcp]
max_sessions_per_tenant = 5
max_sessions = 8
`,
    { SELF_BUILDING_MCP_API_KEY: SEED_KEY },
  );
  local = await httpClient(d.daemon.url, d.daemon.accessToken);
});
afterAll(async () => {
  await local?.close();
  await d?.cleanup();
});

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } };
const post = (key: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${d.daemon.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });
const flood = async (key: string, n: number) => {
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, () => post(key, JSON.stringify(INIT)).then((r) => r.text())));
};
const mcpHealth = async () => (await call<{ components: { mcp: { sessions: number } } }>(local, 'get_system_status')).components.mcp;

describe('MCP sessions per tenant', () => {
  it("a tenant flooding initialize evicts only its own sessions, never the local user's", async () => {
    expect((await call<{ tenant: string }>(local, 'get_system_status')).tenant).toBe('local');
    await flood(VIEWER_KEY, 60);
    expect((await call<{ tenant: string }>(local, 'get_system_status')).tenant).toBe('local');
    expect(await mcpHealth()).toMatchObject({ status: 'ok', sessions: 6 });
    // over the total cap (8), the tenant holding the most sessions gives way, still not `local`
    await flood(TEAM_KEY, 60);
    expect((await mcpHealth()).sessions).toBe(8);
    expect((await call<{ tenant: string }>(local, 'get_system_status')).tenant).toBe('local');
  });
});

describe('a client that disconnects mid-call', () => {
  it('releases the sidecar long-poll behind its wait_for_event', async () => {
    const waiters = async () => (await call<{ components: { sidecar: { waiters: number } } }>(local, 'get_system_status')).components.sidecar.waiters;
    const until = async (pred: (n: number) => boolean, ms: number) => {
      const end = Date.now() + ms;
      for (;;) {
        const n = await waiters();
        if (pred(n) || Date.now() > end) return n;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    expect(await until((n) => n === 0, 5000)).toBe(0);
    const gone = await httpClient(d.daemon.url, d.daemon.accessToken);
    const pending = gone.callTool({ name: 'wait_for_event', arguments: { event_type: 'never_published', timeout_ms: 20_000 } }).catch(() => undefined);
    expect(await until((n) => n === 1, 5000)).toBe(1);
    await gone.close();
    await pending;
    // without the cancel the sidecar holds the waiter for the whole 20 s
    expect(await until((n) => n === 0, 3000)).toBe(0);
  });
});

describe("the seed's SELF_BUILDING_MCP_API_KEY", () => {
  it('is a key of the local tenant when set in the daemon environment', async () => {
    const r = await post(SEED_KEY, JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'get_system_status' }, id: 1 }));
    expect(r.status).toBe(200);
    const body = (await r.json()) as { result: { structuredContent: { tenant: string } } };
    expect(body.result.structuredContent.tenant).toBe('local');
    const seedClient = await httpClient(d.daemon.url, SEED_KEY);
    expect((await call<{ tenant: string }>(seedClient, 'get_system_status')).tenant).toBe('local');
    await seedClient.close();
  });
});

describe('JSON-RPC errors for what the SDK never sees', () => {
  const key = () => d.daemon.accessToken;

  it('a body that cannot be read is -32700, with the size limit in the 413', async () => {
    const bad = await post(key(), '{"jsonrpc":"2.0", nope');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error: the request body is not valid JSON/) } });

    const big = await post(key(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { s: 'x'.repeat(5 * 1024 * 1024) } } }));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringContaining('4 MB limit') } });

    const deep = await post(key(), `${'['.repeat(100)}${']'.repeat(100)}`);
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/nested deeper/) } });
  });

  it('tools/call without params or with null arguments is -32602 in one sentence, with or without a session', async () => {
    const noParams = await post(key(), JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', id: 9 }));
    expect(noParams.status).toBe(200);
    expect(await noParams.json()).toEqual({ jsonrpc: '2.0', id: 9, error: { code: -32602, message: expect.stringMatching(/^tools\/call needs params [^\n]*\.$/) } });

    const init = await post(key(), JSON.stringify(INIT));
    const sid = init.headers.get('mcp-session-id') as string;
    await init.text();
    const nullArgs = await post(key(), JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'cache_stats', arguments: null }, id: 10 }), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    expect(await nullArgs.json()).toEqual({ jsonrpc: '2.0', id: 10, error: { code: -32602, message: expect.stringMatching(/arguments must be an object.*null\.$/) } });
  });
});
