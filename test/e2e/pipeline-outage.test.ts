import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon/daemon.js';
import type { RunningDaemon } from '../../src/daemon/daemon.js';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeItem, FakeProvider } from '../../src/fake-provider/server.js';
import { demoPipelineReply } from '../../src/pipeline/demo-responder.js';
import type { TaskView } from '../../src/pipeline/types.js';
import { tempCcoEnv } from '../../src/testing/temp-dirs.js';
import { api, hubClient, stageOf, taskEnded, taskEvents, waitFor } from './pipeline-helpers.js';

// A real daemon whose gateway forwards to the fake provider, with a circuit breaker that opens
// after 2 failures for 3 s: a brief provider outage delays the tasks that come after it instead
// of failing them, and bad file sets go back to the implementer instead of failing integration.
describe('pipeline through a provider outage and bad file sets', () => {
  const t = tempCcoEnv();
  let fake: FakeProvider;
  let daemon: RunningDaemon;
  let base = '';
  let outage = false;
  const perStage = new Map<string, FakeItem[]>();

  beforeAll(async () => {
    fake = await startFakeProvider({
      responder: (r) => {
        if (outage) return { fault: 'status', status: 500 };
        return perStage.get(stageOf(r) ?? '')?.shift() ?? demoPipelineReply(r) ?? { text: 'not a pipeline request' };
      },
    });
    const routing = join(t.root, 'model-routing.json');
    writeFileSync(routing, JSON.stringify({ version: 1, routes: [{ name: 'claude', pattern: '^claude-', provider: 'anthropic', retries: 0 }], breaker: { failure_threshold: 2, open_ms: 3000 } }));
    daemon = await startDaemon({ env: { ...t.env, CCO_ANTHROPIC_BASE_URL: fake.url, CCO_ROUTING_CONFIG: routing, CCO_LOG_LEVEL: 'info' }, port: 0 });
    base = daemon.url;
  });
  afterAll(async () => {
    await daemon?.close();
    await fake?.close();
    t.cleanup();
  });

  it('refuses a file/folder clash at implementation: the implementer retries and the task completes', async () => {
    perStage.set('implementation', [{ text: JSON.stringify({ files: [{ path: 'a', content: 'x' }, { path: 'a/b.js', content: 'y' }], notes: 'x' }) }]);
    const created = await api<{ task_id: string }>('POST', `${base}/api/requirements`, { requirement: 'Build a small javascript utility that formats dates in many locales for a calendar page', priority: 5 });
    const task = await taskEnded(base, created.body.task_id);
    expect(task.status, task.error ?? '').toBe('completed');
    expect(task.stages.find((s) => s.stage === 'implementation')?.calls).toBe(2);
    const retry = fake.requests.filter((r) => stageOf(r) === 'implementation').at(-1)?.body as { messages: { content: string }[] };
    expect(retry.messages.at(-1)?.content).toContain('"a" is both a file and the folder of "a/b.js"; rename one of them');
    expect(existsSync(join(daemon.paths.workspaceDir, 'implementation', task.id, 'main.js'))).toBe(true);
  });

  it('a task started while the breaker is open waits for it, says so live, and completes', async () => {
    // the outage: every call answers 500; task A's two calls open the breaker and A fails
    outage = true;
    const a = await api<{ task_id: string }>('POST', `${base}/api/requirements`, { requirement: 'Write a Python script that reads a CSV file of expenses and prints the total per category', priority: 5 });
    const failed = await taskEnded(base, a.body.task_id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/could not get an answer: the gateway answered 500/);
    // the provider is back, the breaker is still open for a while
    outage = false;
    const ws = await hubClient(base, daemon.accessToken);
    const startedAt = Date.now();
    const b = await api<{ task_id: string }>('POST', `${base}/api/requirements`, { requirement: 'Write a Python script that reads a JSON file of invoices and prints the total per customer', priority: 5 });
    const id = b.body.task_id;
    const waiting = await waitFor(async () => (await api<TaskView>('GET', `${base}/api/tasks/${id}`)).body.waiting, 5000, 'the task to show it waits');
    expect(waiting).toMatchObject({ stage: 'analysis', reason: expect.stringMatching(/^the gateway answered 503 api_error: Circuit breaker for anthropic is open/) as unknown });
    const task = await taskEnded(base, id);
    expect(task.status, task.error ?? '').toBe('completed');
    expect(task.waiting).toBeUndefined();
    expect(Date.now() - startedAt).toBeGreaterThan(500);
    expect(taskEvents(ws.messages, id)).toContain('stage_waiting:analysis');
    const update = ws.messages.find((m) => m.type === 'task_update' && (m.data as { task_id: string; event: string }).task_id === id && (m.data as { event: string }).event === 'stage_waiting')?.data as { status: string; detail: { wait_ms: number } };
    expect(update.status).toBe('running');
    expect(update.detail.wait_ms).toBeGreaterThanOrEqual(1000);
    expect(update.detail.wait_ms).toBeLessThanOrEqual(3000);
    const card = ws.messages.find((m) => m.type === 'agent_activity' && (m.data as { task_id: string | null }).task_id === id && /is waiting \d+ s for the provider/.test((m.data as { message: string }).message));
    expect(card?.data).toMatchObject({ agent: 'analyst', status: 'Working' });
    ws.close();
  });
});
