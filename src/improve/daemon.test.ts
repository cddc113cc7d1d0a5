import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider } from '../fake-provider/server.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import type { CycleView } from './types.js';

/**
 * The improvement cycle on a real daemon: real gateway requests recorded by the real analytics
 * (which keys a route by its pattern), the gateway's own /v1/messages for the LLM proposal, and
 * the metrics on /metrics.
 */
let fake: FakeProvider;
let t: TestDaemon;
let dir: string;
let routingFile: string;

const retriesOfDead = (): unknown => (JSON.parse(readFileSync(routingFile, 'utf8')) as { routes: { pattern: string; retries?: number }[] }).routes.find((r) => r.pattern === '^dead-')?.retries;
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${t.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await res.json()) as T;
}
const cycle = async (id: string): Promise<CycleView> => (await api<{ cycle: CycleView }>('GET', `/api/improvement/cycles/${id}`)).cycle;
async function until(id: string, pred: (c: CycleView) => boolean): Promise<CycleView> {
  for (let i = 0; i < 300; i++) {
    const c = await cycle(id);
    if (pred(c)) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`cycle ${id} did not get there: ${JSON.stringify(await cycle(id))}`);
}
const trigger = async (): Promise<string> => (await api<{ cycle: { id: string } }>('POST', '/api/improvement/cycles', { analysis_window_hours: 1 })).cycle.id;

beforeAll(async () => {
  // dead-*: every request fails; hang-*: the LLM that never answers.
  fake = await startFakeProvider({ port: 0, responder: (req) => ((req.body as { model?: string }).model?.startsWith('hang-') ? { fault: 'hang' } : { fault: 'status', status: 500 }) });
  dir = mkdtempSync(join(tmpdir(), 'cco-improve-daemon-'));
  routingFile = join(dir, 'model-routing.json');
  writeFileSync(
    routingFile,
    JSON.stringify({
      // two providers, so the dead one's open circuit breaker does not stop the LLM request
      providers: { dead: { format: 'anthropic', base_url: fake.url }, llm: { format: 'anthropic', base_url: fake.url } },
      routes: [
        { name: 'dead', pattern: '^dead-', provider: 'dead', timeout_ms: 5000, retries: 0, cache: true },
        { name: 'hang', pattern: '^hang-', provider: 'llm', timeout_ms: 300_000, retries: 0 },
      ],
    }),
  );
  t = await startTestDaemon({
    env: { CCO_ROUTING_CONFIG: routingFile, GENERATION_TIMEOUT_SECONDS: '1' },
    config: (c) => ({ ...c, improve: { ...c.improve, min_requests: 5, error_frequency_threshold: 5, monitoring_duration_seconds: 120, monitoring_interval_seconds: 0.1, llm_proposals: true, llm_model: 'hang-model' } }),
  });
  // The same request twelve times: each fails, so none could ever have been answered from the cache.
  for (let i = 0; i < 12; i++) {
    const res = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'dead-1', max_tokens: 10, messages: [{ role: 'user', content: 'same every time' }] }) });
    expect(res.status).toBeGreaterThanOrEqual(500);
  }
}, 30_000);
afterAll(async () => {
  await t?.cleanup();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('improvement cycle on a real daemon', () => {
  let first = '';

  it('changes a named route, sees no cache misses in failed requests, and falls back to the rules when the LLM times out', async () => {
    expect(retriesOfDead()).toBe(0);
    first = await trigger();
    const a = await until(first, (c) => c.phase === 'monitoring' || c.status !== 'in_progress');
    expect(a.opportunities.map((o) => `${o.route}:${o.kind}`)).toEqual(['^dead-:errors']);
    expect(a.proposal).toMatchObject({ source: 'rules', llm_rejected: 'Generation failed: Timeout after 1 seconds' });
    expect(a.proposal?.changes).toEqual([expect.objectContaining({ route: '^dead-', field: 'retries', from: 0, to: 1 })]);
    expect(a.phase).toBe('monitoring');
    expect(retriesOfDead()).toBe(1);
  }, 20_000);

  it('does not stack a second cycle on the field the first one holds', async () => {
    const second = await trigger();
    const b = await until(second, (c) => c.status !== 'in_progress');
    expect(b).toMatchObject({ status: 'completed', proposal: { changes: [], skipped: [{ route: '^dead-', field: 'retries', held_by: first }] } });
    expect(b.outcome?.verdict).toContain(`held by cycle ${first}`);
    expect(retriesOfDead()).toBe(1);
  }, 20_000);

  it('reports opportunities, cycle durations and final statuses on /metrics', async () => {
    await api('POST', `/api/improvement/cycles/${first}/cancel`);
    expect(retriesOfDead()).toBe(0);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(sample(text, 'opportunities_identified_total{kind="errors"}')).toBe(2);
    expect(sample(text, 'improvement_cycles_total{status="completed"}')).toBe(1);
    expect(sample(text, 'improvement_cycles_total{status="cancelled"}')).toBe(1);
    expect(sample(text, 'cycle_duration_seconds_count{status="cancelled"}')).toBe(1);
    expect(text).toContain('# TYPE cycle_duration_seconds histogram');
  });
});
