import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../../fake-provider/server.js';
import type { FakeProvider } from '../../fake-provider/server.js';
import { startTestDaemon } from '../../testing/test-daemon.js';
import type { TestDaemon } from '../../testing/test-daemon.js';

/**
 * An LLM provider's open circuit breaker, as the seed guide's operator sees it (seed 003): one
 * warning in the daemon's log, /health's gateway part degraded, MCP get_system_status's
 * `llm_circuit_breaker_state`, and a reset by the guide's names ("llm", `service`).
 */
let fake: FakeProvider;
let d: TestDaemon;
let mcp: Client;
let dir: string;

beforeAll(async () => {
  fake = await startFakeProvider({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'cco-breaker-'));
  const routingFile = join(dir, 'model-routing.json');
  writeFileSync(routingFile, JSON.stringify({ routes: [{ pattern: '^claude-', provider: 'anthropic', retries: 0 }], breaker: { failure_threshold: 2, open_ms: 60_000 } }));
  d = await startTestDaemon({
    env: { CCO_ANTHROPIC_BASE_URL: fake.url },
    config: (c) => ({ ...c, daemon: { ...c.daemon, log_level: 'info' }, gateway: { ...c.gateway, routing_config: routingFile } }),
  });
  mcp = new Client({ name: 'breaker-test', version: '1' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${d.token}` } } }));
});
afterAll(async () => {
  await mcp?.close();
  await d?.cleanup();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.reset();
  d.daemon.modules.gateway.resetBreakers();
});

const auth = () => ({ authorization: `Bearer ${d.token}` });
const ask = async () => {
  const r = await fetch(`${d.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-breaker-0000000000' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
  await r.text();
  return r.status;
};
/** Two 503s from the provider: its breaker (threshold 2) opens. */
const openTheBreaker = async () => {
  fake.queue({ fault: 'status', status: 503 }, { fault: 'status', status: 503 });
  expect([await ask(), await ask()]).toEqual([503, 503]);
  expect(d.daemon.modules.gateway.breakers().anthropic?.state).toBe('open');
};
const logs = async (level: string) => ((await (await fetch(`${d.url}/api/logs?level=${level}&limit=2000`, { headers: auth() })).json()) as { logs: { msg: string; level?: unknown; [k: string]: unknown }[] }).logs;
const breakerLines = async (level: string, what: RegExp) => (await logs(level)).filter((l) => what.test(l.msg));
const tool = async (name: string, args: Record<string, unknown> = {}) => (await mcp.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: Record<string, unknown>; content: { text: string }[] };
const resetRoute = (body: unknown) => fetch(`${d.url}/api/gateway/breakers/reset`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body) });

describe('an open LLM circuit breaker', () => {
  it('is logged once, makes /health and get_system_status say so, and "llm" closes it', async () => {
    const warnedBefore = (await breakerLines('warn', /^LLM circuit breaker open/)).length;
    await openTheBreaker();
    // refused without calling the provider: no new failure, no second line
    expect(await ask()).toBe(503);
    const opened = (await breakerLines('warn', /^LLM circuit breaker open/)).slice(warnedBefore);
    expect(opened.map((l) => l.msg)).toEqual(['LLM circuit breaker open: anthropic, 2 failures, retry in 60 s']);
    expect(opened[0]).toMatchObject({ provider: 'anthropic', llm_circuit_breaker_state: 'open' });

    const healthRes = await fetch(`${d.url}/health`);
    // degraded, still serving: 200 (load balancers and cco mcp read 503 as "not there")
    expect(healthRes.status).toBe(200);
    const health = (await healthRes.json()) as { status: string; checks: Record<string, Record<string, unknown>> };
    expect(health.status).toBe('degraded');
    expect(health.checks.gateway).toMatchObject({ status: 'degraded', llm_circuit_breaker_state: 'open', openCircuits: ['anthropic'], serving: true });
    expect(health.checks.gateway?.error).toMatch(/LLM circuit breaker open for anthropic \(2 failures, retry in (59|60) s\)/);

    const status = await tool('get_system_status');
    expect(status.isError).toBeFalsy();
    expect(status.structuredContent).toMatchObject({ status: 'degraded', llm_circuit_breaker_state: 'open', circuit_breakers: { anthropic: { state: 'open' } }, components: { gateway: { status: 'degraded' } } });

    const reset = await tool('reset_circuit_breaker', { service: 'llm' });
    expect(reset.isError, reset.content.map((c) => c.text).join()).toBeFalsy();
    expect(reset.structuredContent).toMatchObject({ reset: ['anthropic'], circuit_breakers: { anthropic: { state: 'closed' } } });
    expect((await breakerLines('info', /^LLM circuit breaker closed: anthropic/)).at(-1)?.msg).toBe('LLM circuit breaker closed: anthropic, reset by hand');
    expect((await tool('get_system_status')).structuredContent).toMatchObject({ llm_circuit_breaker_state: 'closed', components: { gateway: { status: 'ok' } } });
    const after = (await (await fetch(`${d.url}/health`)).json()) as { checks: Record<string, Record<string, unknown>> };
    expect(after.checks.gateway).toMatchObject({ status: 'ok', llm_circuit_breaker_state: 'closed', openCircuits: [] });
    // other names are still refused as before
    expect((await tool('reset_circuit_breaker', { service: 'nope' })).content[0]?.text).toMatch(/unknown_service \(404\): No circuit breaker for nope; known: anthropic/);
  });

  it('is reset through the REST route with `service` (the guides\' key) or `provider`, not both', async () => {
    await openTheBreaker();
    const r = await resetRoute({ service: 'anthropic' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', reset: ['anthropic'], breakers: { anthropic: { state: 'closed' } } });

    await openTheBreaker();
    const all = await resetRoute({ service: 'llm' });
    expect(await all.json()).toMatchObject({ reset: ['anthropic'], breakers: { anthropic: { state: 'closed' } } });

    const both = await resetRoute({ service: 'anthropic', provider: 'anthropic' });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: { code: 'invalid_request', field: 'body.service', message: expect.stringMatching(/give provider or service, not both/) } });
    const unknown = await resetRoute({ service: 'nope' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { field: 'body.service', message: expect.stringMatching(/No circuit breaker for provider nope \(known: anthropic\)/) } });
    expect((await resetRoute({ provider: 'nope' })).status).toBe(404);
    expect((await resetRoute({ provider: 'anthropic' })).status).toBe(200);
  });
});
