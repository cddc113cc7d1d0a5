import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeProvider } from '../../src/fake-provider/server.js';
import { TOOL_NAMES } from '../../src/mcp/server.js';
import { call, callError, httpClient, startMcpDaemon, syntheticTraffic, TEAM_KEY, VIEWER_KEY } from './mcp-harness.js';

let fake: FakeProvider;
let d: Awaited<ReturnType<typeof startMcpDaemon>>;
let local: Client;

const IMPROVE_TOML = `
[improve]
monitoring_duration_seconds = 30
monitoring_interval_seconds = 0.1
min_requests = 20

[mcp]
progress_interval_ms = 200
`;

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } };
const post = (headers: Record<string, string>, body: unknown = INIT) =>
  fetch(`${d.daemon.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  fake = await startFakeProvider({ port: 0 });
  d = await startMcpDaemon(IMPROVE_TOML, { CCO_ANTHROPIC_BASE_URL: fake.url, CCO_OPENAI_BASE_URL: `${fake.url}/v1`, ANTHROPIC_API_KEY: 'sk-ant-test' });
  local = await httpClient(d.daemon.url, d.daemon.accessToken);
});
afterAll(async () => {
  await local?.close();
  await d?.cleanup();
  await fake?.close();
});

describe('MCP over Streamable HTTP against a real daemon', () => {
  it('lists every tool with a description and input and output schemas', async () => {
    const { tools } = await local.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    for (const t of tools) {
      expect(t.description?.length, t.name).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type, t.name).toBe('object');
    }
    const trigger = tools.find((t) => t.name === 'trigger_improvement_cycle');
    expect(Object.keys(trigger?.inputSchema.properties ?? {})).toContain('analysis_window_hours');
  });

  it('get_system_status reports every part, breakers, queues, cache and cycles', async () => {
    const s = await call<{ status: string; tenant: string; components: Record<string, { status: string }>; cache: { hits: number } | null; improvement: { active_cycles: unknown[] } }>(local, 'get_system_status');
    expect(s.tenant).toBe('local');
    expect(Object.keys(s.components).sort()).toEqual(['database', 'gateway', 'improve', 'learning_engine', 'mcp', 'pipeline', 'sidecar']);
    expect(s.components.mcp).toMatchObject({ status: 'ok', sessions: expect.any(Number) });
    expect(s.components.database?.status).toBe('ok');
    expect(s.components.sidecar?.status).toBe('ok');
    expect(typeof s.cache?.hits).toBe('number');
    expect(Array.isArray(s.improvement.active_cycles)).toBe(true);
  });

  it('list_agents, get_context and store_result go to the catalog and the sidecar', async () => {
    const agents = await call<{ total: number; agents: { name: string; category: string }[] }>(local, 'list_agents');
    expect(agents.total).toBeGreaterThan(0);
    const type = agents.agents[0]?.name as string;
    const filtered = await call<{ agents: { category: string }[] }>(local, 'list_agents', { category: agents.agents[0]?.category });
    expect(filtered.agents.every((a) => a.category === agents.agents[0]?.category)).toBe(true);

    const stored = await call<{ status: string; issue_id: string }>(local, 'store_result', { issue_id: 'issue-7', agent_type: type, result: { status: 'success', summary: 'chose PostgreSQL', decisions: ['Use PostgreSQL for storage'] } });
    expect(stored).toMatchObject({ status: 'stored', issue_id: 'issue-7' });
    const ctx = await call<{ context: Record<string, unknown> }>(local, 'get_context', { issue_id: 'issue-7', agent_type: type });
    expect(JSON.stringify(ctx.context)).toContain('Use PostgreSQL for storage');
    expect(await callError(local, 'get_context', { issue_id: '../etc', agent_type: type })).toMatch(/400|issue/);
  });

  it('publish_event is seen by wait_for_event, which long-polls from a cursor', async () => {
    const first = await call<{ cursor: number }>(local, 'wait_for_event', { event_type: 'api_ready', timeout_ms: 0 });
    const waiting = call<{ events: { data: unknown; topic: string }[]; cursor: number; timed_out: boolean }>(local, 'wait_for_event', { event_type: 'api_ready', topic: 'backend', after: first.cursor, timeout_ms: 5000 });
    await new Promise((r) => setTimeout(r, 150));
    const pub = await call<{ status: string; cursor: number }>(local, 'publish_event', { event_type: 'api_ready', topic: 'backend', data: { endpoint: '/users' } });
    expect(pub.status).toBe('published');
    const got = await waiting;
    expect(got.timed_out).toBe(false);
    expect(got.events).toEqual([expect.objectContaining({ topic: 'backend', data: { endpoint: '/users' } })]);
    expect(got.cursor).toBe(pub.cursor);
    const none = await call<{ events: unknown[]; timed_out: boolean }>(local, 'wait_for_event', { event_type: 'api_ready', topic: 'backend', after: got.cursor, timeout_ms: 100 });
    expect(none).toMatchObject({ events: [], timed_out: true });
    // a topic that could never be published is refused, not waited on
    expect(await callError(local, 'wait_for_event', { event_type: 'api_ready', topic: 'a b', timeout_ms: 100 })).toMatch(/topic/);
  });

  it('wait_for_event gives no more than 2 MB of events a call (a stdio client\'s buffer is 10 MB): the rest from the returned cursor, none lost', async () => {
    const start = await call<{ cursor: number }>(local, 'wait_for_event', { event_type: 'big_payload', timeout_ms: 0 });
    const blob = 'x'.repeat(700_000);
    for (let i = 0; i < 5; i++) await call(local, 'publish_event', { event_type: 'big_payload', data: { i, blob } });
    const seen: number[] = [];
    let after = start.cursor;
    for (let calls = 0; calls < 10 && seen.length < 5; calls++) {
      const r = await call<{ events: { data: { i: number } }[]; cursor: number; more?: boolean }>(local, 'wait_for_event', { event_type: 'big_payload', after, timeout_ms: 0 });
      expect(JSON.stringify(r.events).length).toBeLessThan(3 * 1024 * 1024);
      seen.push(...r.events.map((e) => e.data.i));
      after = r.cursor;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('a long wait_for_event sends progress to a client that gave a progress token, which keeps its request alive', async () => {
    const progress: { progress: number; total?: number }[] = [];
    // the client's own timeout (500 ms) is shorter than the wait: progress resets it
    const r = await local.callTool({ name: 'wait_for_event', arguments: { event_type: 'never_published', timeout_ms: 1200 } }, undefined, {
      timeout: 500,
      resetTimeoutOnProgress: true,
      onprogress: (p) => progress.push(p),
    });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ events: [], timed_out: true });
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]).toMatchObject({ total: 1200 });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    // without a progress token nothing is sent, and the same client timeout fails the call
    await expect(local.callTool({ name: 'wait_for_event', arguments: { event_type: 'never_published', timeout_ms: 1200 } }, undefined, { timeout: 500 })).rejects.toThrow(/timed out/i);
  });

  it('submit_requirement creates a pipeline task that get_task returns', async () => {
    const sub = await call<{ task_id: string; status: string }>(local, 'submit_requirement', { requirement: 'Write a function that adds two numbers', priority: 8 });
    expect(sub.task_id).toBeTruthy();
    const t = await call<{ task: { id?: string; task_id?: string; requirement?: string } }>(local, 'get_task', { task_id: sub.task_id });
    expect(JSON.stringify(t.task)).toContain('adds two numbers');
    expect(await callError(local, 'get_task', { task_id: 'task-nope' })).toMatch(/404|No task/);
  });

  it("a tenant's pipeline tasks are its own: another non-admin tenant is refused, admins see them", async () => {
    const viewer = await httpClient(d.daemon.url, VIEWER_KEY);
    const team = await httpClient(d.daemon.url, TEAM_KEY);
    try {
      const mine = await call<{ task_id: string }>(viewer, 'submit_requirement', { requirement: 'The viewer tenant secret plan' });
      expect(JSON.stringify((await call<{ task: unknown }>(viewer, 'get_task', { task_id: mine.task_id })).task)).toContain('secret plan');
      // the operator's task, seen by the non-admin viewer: refused without its text
      const theirs = await call<{ task_id: string }>(local, 'submit_requirement', { requirement: 'The operator plan' });
      const refused = await callError(viewer, 'get_task', { task_id: theirs.task_id });
      expect(refused).toMatch(/403|Access denied/);
      expect(refused).not.toContain('operator plan');
      // admins (the local operator, team-b) see every tenant's tasks
      expect(JSON.stringify((await call<{ task: unknown }>(local, 'get_task', { task_id: mine.task_id })).task)).toContain('secret plan');
      expect(JSON.stringify((await call<{ task: unknown }>(team, 'get_task', { task_id: mine.task_id })).task)).toContain('secret plan');
    } finally {
      await viewer.close();
      await team.close();
    }
  });

  it('cache_stats and reset_circuit_breaker use the gateway', async () => {
    const before = await call<{ hits: number; misses: number }>(local, 'cache_stats');
    const body = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi mcp' }] };
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${d.daemon.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test' }, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
    }
    const after = await call<{ hits: number; misses: number }>(local, 'cache_stats');
    expect(after.hits + after.misses).toBeGreaterThan(before.hits + before.misses);

    const reset = await call<{ reset: string[]; circuit_breakers: Record<string, { state: string }> }>(local, 'reset_circuit_breaker', { service: 'anthropic' });
    expect(reset.reset).toEqual(['anthropic']);
    expect(reset.circuit_breakers.anthropic?.state).toBe('closed');
    expect(await callError(local, 'reset_circuit_breaker', { service: 'nope' })).toMatch(/404.*No circuit breaker for nope/);
  });

  it('an improvement cycle raises a timeout that keeps firing, rolls back on injected degradation, and shows both', async () => {
    const gw = (d.daemon.modules.gateway as unknown as { gateway: { routing: { config: { routes: { name?: string; timeout_ms?: number }[] } } } }).gateway;
    const timeoutOf = () => gw.routing.config.routes.find((r) => r.name === 'claude')?.timeout_ms;
    expect(timeoutOf()).toBe(300_000);
    await d.daemon.store.db.insertInto('gateway_requests').values(syntheticTraffic('claude', 100, 0.2, Date.now(), 3600_000)).execute();

    const { cycle } = await call<{ cycle: { id: string; status: string } }>(local, 'trigger_improvement_cycle', { analysis_window_hours: 1, reason: 'e2e' });
    expect(cycle.status).toBe('in_progress');
    const get = async () => (await call<{ cycles: { id: string; status: string; phase: string; opportunities: { kind: string }[]; proposal: { changes: { field: string; to: unknown }[] } | null; history: { kind: string }[] }[] }>(local, 'list_improvement_cycles', { cycle_id: cycle.id })).cycles[0];
    const until = async (pred: (c: NonNullable<Awaited<ReturnType<typeof get>>>) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const c = await get();
        if (c && pred(c)) return c;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`cycle did not get there: ${JSON.stringify(await get())}`);
    };
    const monitoring = await until((c) => c.phase === 'monitoring' || c.status !== 'in_progress');
    expect(monitoring.phase).toBe('monitoring');
    expect(monitoring.opportunities.map((o) => o.kind)).toEqual(['timeouts']);
    expect(monitoring.proposal?.changes).toEqual([expect.objectContaining({ field: 'timeout_ms', to: 450_000 })]);
    expect(timeoutOf()).toBe(450_000);

    await d.daemon.store.db.insertInto('gateway_requests').values(syntheticTraffic('claude', 40, 0.5, Date.now() + 1, 1)).execute();
    const done = await until((c) => c.status !== 'in_progress');
    expect(done.status).toBe('rolled_back');
    expect(timeoutOf()).toBe(300_000);
    expect(done.history.map((h) => h.kind)).toEqual(['triggered', 'analyzed', 'proposed', 'applied', 'rolled_back']);

    const list = await call<{ config_versions: { kind: string; cycle_id: string }[] }>(local, 'list_improvement_cycles', {});
    expect(list.config_versions.map((v) => v.kind)).toEqual(['rollback', 'improvement', 'baseline']);
    const rest = (await (await fetch(`${d.daemon.url}/api/improvement/cycles/${cycle.id}`)).json()) as { cycle: { status: string; rollback_version: number } };
    expect(rest.cycle.status).toBe('rolled_back');
    const v = (await (await fetch(`${d.daemon.url}/api/improvement/config-versions/${rest.cycle.rollback_version}`)).json()) as { version: { config: { routes: { name?: string; timeout_ms?: number }[] } } };
    expect(v.version.config.routes.find((r) => r.name === 'claude')?.timeout_ms).toBe(300_000);
    expect(d.daemon.hub.recent({ types: ['improvement_cycle'] }).map((m) => (m.data as { event: string }).event)).toContain('rolled_back');
    expect(await callError(local, 'cancel_improvement_cycle', { cycle_id: cycle.id })).toMatch(/409.*already rolled_back/);
  });
});

describe("the seed's one-line curl", () => {
  it('answers a tools/call without a session, Accept or JSON Content-Type with plain JSON', async () => {
    // curl -X POST http://127.0.0.1:3000/mcp -H "Authorization: Bearer $KEY" -d '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_system_status"},"id":1}'
    const r = await fetch(`${d.daemon.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.daemon.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_system_status"},"id":1}',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await r.json()) as { id: number; result: { structuredContent: { components: Record<string, unknown> } } };
    expect(body.id).toBe(1);
    expect(Object.keys(body.result.structuredContent.components)).toContain('gateway');
    // the guide's jq path: .result.components.learning_engine.telemetry_buffer_size
    expect((body.result as unknown as { components: { learning_engine: { telemetry_buffer_size: number } } }).components.learning_engine.telemetry_buffer_size).toEqual(expect.any(Number));

    const trigger = await fetch(`${d.daemon.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.daemon.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'list_improvement_cycles', arguments: { limit: 1 } }, id: 2 }),
    });
    expect(((await trigger.json()) as { result: { isError?: boolean } }).result.isError).toBeUndefined();
    const bad = await fetch(`${d.daemon.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${d.daemon.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'not json' });
    expect(bad.status).toBe(400);
  });
});

describe('MCP auth matrix', () => {
  it('401 with the seed\'s message when the key is missing or wrong', async () => {
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 401, message: expect.stringMatching(/^Unauthorized: Invalid or missing API key/), reason: 'missing_key' } });
    const wrong = await post({ authorization: 'Bearer not-a-key-of-anyone' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 401, reason: 'invalid_key' } });
    const sdk = new Client({ name: 'x', version: '1' });
    await expect(sdk.connect(new StreamableHTTPClientTransport(new URL(`${d.daemon.url}/mcp`)))).rejects.toThrow();
  });

  it('403 "Tenant access denied" outside the key\'s tenant', async () => {
    const other = await post({ authorization: `Bearer ${TEAM_KEY}`, 'x-tenant-id': 'local' });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: 403, message: 'Tenant access denied' } });
    const byQuery = await fetch(`${d.daemon.url}/mcp?tenant=viewer`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TEAM_KEY}` }, body: JSON.stringify(INIT) });
    expect(byQuery.status).toBe(403);

    // a session opened by team-b cannot be used with the viewer's key
    const team = await post({ authorization: `Bearer ${TEAM_KEY}`, 'x-tenant-id': 'team-b' });
    expect(team.status).toBe(200);
    const sid = team.headers.get('mcp-session-id') as string;
    await team.body?.cancel();
    const hijack = await post({ authorization: `Bearer ${VIEWER_KEY}`, 'mcp-session-id': sid }, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(hijack.status).toBe(403);
    expect(await hijack.json()).toMatchObject({ error: { code: 403, message: 'Tenant access denied' } });
  });

  it('a tenant key works within its tenant: its own status, its issues only, no admin tools', async () => {
    const team = await httpClient(d.daemon.url, TEAM_KEY);
    expect((await call<{ tenant: string }>(team, 'get_system_status')).tenant).toBe('team-b');
    await team.close();

    const viewer = await httpClient(d.daemon.url, VIEWER_KEY, { 'x-tenant-id': 'viewer' });
    expect((await call<{ tenant: string }>(viewer, 'get_system_status')).tenant).toBe('viewer');
    expect(await callError(viewer, 'trigger_improvement_cycle', { analysis_window_hours: 1 })).toMatch(/Tenant access denied/);
    expect(await callError(viewer, 'reset_circuit_breaker', { service: 'anthropic' })).toMatch(/Tenant access denied/);
    const agents = await call<{ agents: { name: string }[] }>(viewer, 'list_agents');
    const type = agents.agents[0]?.name as string;
    await call(viewer, 'get_context', { issue_id: 'issue-7', agent_type: type });
    expect(await callError(viewer, 'get_context', { issue_id: 'issue-8', agent_type: type })).toMatch(/403.*issue-8/);
    await viewer.close();
  });

  it('keeps DNS-rebinding protection: a foreign Host or Origin is refused before the key is looked at', async () => {
    const { request } = await import('node:http');
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${d.daemon.url}/mcp`);
        const req = request({ host: u.hostname, port: u.port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${d.daemon.accessToken}`, ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(INIT));
      });
    expect(await status({ host: 'evil.example:80' })).toBe(403);
    expect(await status({ origin: 'http://evil.example' })).toBe(403);
    expect(await status({})).toBe(200);
  });
});
