import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon/daemon.js';
import type { RunningDaemon } from '../../src/daemon/daemon.js';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeItem, FakeProvider } from '../../src/fake-provider/server.js';
import { demoPipelineReply } from '../../src/pipeline/demo-responder.js';
import type { AgentView } from '../../src/pipeline/types.js';
import { tempCcoEnv } from '../../src/testing/temp-dirs.js';
import { api, hubClient, stageOf, taskEnded, taskEvents, waitFor } from './pipeline-helpers.js';

// A real daemon (in process, port 0, temp home) whose gateway forwards to the fake provider
// (CCO_ANTHROPIC_BASE_URL): the pipeline's calls go pipeline → gateway → fake, over HTTP.
describe('pipeline end to end through the daemon and its gateway', () => {
  const t = tempCcoEnv();
  let fake: FakeProvider;
  let daemon: RunningDaemon;
  let base = '';
  const perStage = new Map<string, FakeItem[]>();

  beforeAll(async () => {
    fake = await startFakeProvider({
      responder: (r) => {
        const scripted = perStage.get(stageOf(r) ?? '')?.shift();
        return scripted ?? demoPipelineReply(r) ?? { text: 'not a pipeline request' };
      },
    });
    daemon = await startDaemon({ env: { ...t.env, CCO_ANTHROPIC_BASE_URL: fake.url, CCO_LOG_LEVEL: 'info' }, port: 0 });
    base = daemon.url;
  });
  afterAll(async () => {
    await daemon?.close();
    await fake?.close();
    t.cleanup();
  });

  it('runs a requirement through all stages: files in the workspace, task archived, every change on /ws in order, analytics rows', async () => {
    // the implementer's first reply is prose, not JSON: retried once with the parse error
    perStage.set('implementation', [{ text: 'Of course! Here is a lovely page for you.' }]);
    const ws = await hubClient(base, daemon.accessToken);
    const created = await api<{ task_id: string; status: string }>('POST', `${base}/api/requirements`, { requirement: 'a landing page for a bakery', priority: 4 });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('queued');
    const id = created.body.task_id;
    const task = await taskEnded(base, id);
    expect(task.status, task.error ?? '').toBe('completed');
    expect(task.output_format).toBe('html');
    expect(task.prompts.original).toBe('a landing page for a bakery');
    expect(task.prompts.enhanced).toContain('a landing page for a bakery');
    expect(task.stages.map((s) => `${s.stage}:${s.status}`)).toEqual(['enhancement:completed', 'analysis:completed', 'implementation:completed', 'validation:completed', 'integration:completed']);
    expect(task.stages.find((s) => s.stage === 'implementation')?.calls).toBe(2);

    // files in workspace/implementation/<task>/ and the archive
    const dir = join(daemon.paths.workspaceDir, 'implementation', id);
    expect(task.workspace_path).toBe(dir);
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toMatch(/<!doctype html>[\s\S]*bakery/);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('DEMO provider');
    expect(task.archive_path).toBe(join(daemon.paths.archiveDir, id));
    expect(JSON.parse(readFileSync(join(daemon.paths.archiveDir, id, 'task.json'), 'utf8'))).toMatchObject({ id, status: 'completed' });
    expect(existsSync(join(daemon.paths.archiveDir, id, 'files', 'index.html'))).toBe(true);

    // every state change pushed over the WebSocket, in order
    await waitFor(() => taskEvents(ws.messages, id).includes('archived') || undefined, 5000, 'archived on /ws');
    const stages = ['enhancement', 'analysis', 'implementation', 'validation', 'integration'];
    expect(taskEvents(ws.messages, id)).toEqual(['created', 'started', ...stages.flatMap((s) => [`stage_started:${s}`, `stage_completed:${s}`]), 'completed', 'archived']);
    const seqs = ws.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const ofTask = ws.messages.filter((m) => (m.data as { task_id?: string }).task_id === id || (m.data as { last_task_id?: string }).last_task_id === id);
    const cards = ofTask.filter((m) => m.type === 'agent_activity').map((m) => m.data as { agent: string; status: string; tasks_done: number; task_id: string | null });
    expect(cards.every((c) => (c.status === 'Working' ? c.task_id === id : c.task_id === null))).toBe(true);
    expect(cards.map((c) => `${c.agent}:${c.status}:${c.tasks_done}`)).toEqual(['enhancer', 'analyst', 'implementer', 'validator', 'integrator'].flatMap((a) => [`${a}:Working:0`, `${a}:Ready:1`]));
    expect(ofTask.filter((m) => m.type === 'file_created').map((m) => (m.data as { path: string }).path).sort()).toEqual(['README.md', 'index.html']);
    const logs = ofTask.filter((m) => m.type === 'log').map((m) => (m.data as { msg: string }).msg);
    expect(logs.some((l) => /^Enhancement started for t_\w+ \(/.test(l))).toBe(true);
    expect(logs.some((l) => l.startsWith('implementation: reply did not parse, asking again'))).toBe(true);
    // the order inside the stream: a stage's Working card comes before its stage_completed
    const idx = (pred: (m: (typeof ofTask)[number]) => boolean) => ofTask.findIndex(pred);
    expect(idx((m) => m.type === 'agent_activity' && (m.data as { agent: string }).agent === 'implementer')).toBeLessThan(idx((m) => m.type === 'task_update' && (m.data as { event: string; stage: string }).event === 'stage_completed' && (m.data as { stage: string }).stage === 'implementation'));
    ws.close();

    // a page opened late gets the whole story replayed
    const late = await hubClient(base, daemon.accessToken);
    await waitFor(() => taskEvents(late.messages, id).includes('archived') || undefined, 5000, 'replay');
    expect(taskEvents(late.messages, id)).toEqual(taskEvents(ws.messages, id));
    late.close();

    // the agent cards
    const agents = await api<{ agents: Record<string, AgentView> }>('GET', `${base}/api/agents`);
    expect(Object.keys(agents.body.agents)).toHaveLength(5);
    expect(agents.body.agents.validator).toMatchObject({ status: 'Ready', tasks_done: 1, current_task: null });
    expect(agents.body.agents.implementer?.last_output).toBe('1 file: index.html');

    // the calls went through the gateway: one analytics row per upstream call, attributed to the task
    const upstream = fake.requests.filter((r) => stageOf(r) !== undefined && JSON.stringify(r.body).includes('bakery'));
    expect(upstream).toHaveLength(6);
    const rows = await waitFor(async () => {
      const r = await sql<{ agent_id: string; status: number; input_tokens: number }>`select agent_id, status, input_tokens from gateway_requests where session_id = ${id}`.execute(daemon.store.db);
      return r.rows.length >= 6 ? r.rows : undefined;
    }, 10_000, 'analytics rows');
    expect(rows.map((r) => r.agent_id).sort()).toEqual(['pipeline-analyst', 'pipeline-enhancer', 'pipeline-implementer', 'pipeline-implementer', 'pipeline-integrator', 'pipeline-validator']);
    expect(rows.every((r) => Number(r.status) === 200 && Number(r.input_tokens) > 0)).toBe(true);
  });

  it('fails the task when the validator upstream returns garbage, then 500s: reason over /ws and in GET /api/tasks/:id', async () => {
    perStage.set('validation', [{ fault: 'garbage', body: '<html>502 proxy error</html>' }, ...Array.from({ length: 20 }, (): FakeItem => ({ fault: 'status', status: 500 }))]);
    const ws = await hubClient(base, daemon.accessToken);
    const created = await api<{ task_id: string }>('POST', `${base}/api/requirements`, { requirement: 'Write a Python script that reads a CSV file of expenses and prints the total per category', priority: 5 });
    const id = created.body.task_id;
    const task = await taskEnded(base, id, 60_000);
    perStage.delete('validation');
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/^[\w -]+ \(validation\) could not get an answer: the gateway answered 5\d\d/);
    const v = task.stages.find((s) => s.stage === 'validation');
    expect(v).toMatchObject({ status: 'failed', error: task.error, calls: 2 });
    expect(task.stages.find((s) => s.stage === 'integration')?.status).toBe('cancelled');
    expect(task.files).toEqual([]);
    expect(existsSync(join(daemon.paths.workspaceDir, 'implementation', id))).toBe(false);
    await waitFor(() => taskEvents(ws.messages, id).includes('archived') || undefined, 5000, 'archived on /ws');
    expect(taskEvents(ws.messages, id).slice(-4)).toEqual(['stage_started:validation', 'stage_failed:validation', 'failed:validation', 'archived']);
    const failed = ws.messages.find((m) => m.type === 'task_update' && (m.data as { task_id: string; event: string }).task_id === id && (m.data as { event: string }).event === 'failed');
    expect((failed?.data as { error: string }).error).toBe(task.error);
    const card = ws.messages.filter((m) => m.type === 'agent_activity' && (m.data as { last_task_id: string }).last_task_id === id).pop()?.data as { agent: string; status: string; message: string };
    expect(card).toMatchObject({ agent: 'validator', status: 'Error', task_id: null });
    const errLog = ws.messages.find((m) => m.type === 'log' && (m.data as { task_id?: string; level: string }).task_id === id && (m.data as { level: string }).level === 'error');
    expect((errLog?.data as { msg: string }).msg).toContain('validation failed');
    // the garbage answer was the first failure, reported and retried before the 500s ended it
    const retryLog = ws.messages.find((m) => m.type === 'log' && (m.data as { task_id?: string }).task_id === id && /LLM call failed, retrying/.test((m.data as { msg: string }).msg));
    expect((retryLog?.data as { msg: string }).msg).toMatch(/^validation: LLM call failed, retrying: the gateway answered/);
    // never a silent simulation: no integration call was made and the validator card shows the error
    expect(fake.requests.filter((r) => stageOf(r) === 'integration' && JSON.stringify(r.body).includes('expenses'))).toHaveLength(0);
    const agents = await api<{ agents: Record<string, AgentView> }>('GET', `${base}/api/agents`);
    expect(agents.body.agents.validator).toMatchObject({ status: 'Error', last_error: task.error });
    ws.close();
  });

  it('answers bad input with 4xx naming the field, and stores nothing', async () => {
    const before = (await api<{ total: number }>('GET', `${base}/api/tasks`)).body.total;
    const cases: [unknown, number, string][] = [
      [{ requirement: '', priority: 1 }, 400, 'body.requirement'],
      [{ requirement: 'x'.repeat(20_001), priority: 1 }, 400, 'body.requirement'],
      [{ requirement: ['a'], priority: 1 }, 400, 'body.requirement'],
      [{ requirement: 'ok', priority: 'high' }, 400, 'body.priority'],
      [{ requirement: 'ok', priority: 0 }, 400, 'body.priority'],
      [{ requirement: 'ok', priority: 99 }, 400, 'body.priority'],
      [{ requirement: 'ok', priority: 1, extra: true }, 400, 'body'],
      ['{"requirement": "ok", ', 400, 'body'],
    ];
    for (const [body, status, field] of cases) {
      const r = await api<{ error: { code: string; field: string; message: string } }>('POST', `${base}/api/requirements`, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(r.body.error.field).toBe(field);
      expect(r.body.error.message.length).toBeGreaterThan(5);
    }
    const huge = await fetch(`${base}/api/requirements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requirement: 'y'.repeat(3 * 1024 * 1024), priority: 1 }) });
    expect(huge.status).toBe(413);
    expect((await api('GET', `${base}/api/tasks/t_nosuchtask00`)).status).toBe(404);
    expect((await api('POST', `${base}/api/tasks/t_nosuchtask00/cancel`)).status).toBe(404);
    expect((await api<{ total: number }>('GET', `${base}/api/tasks`)).body.total).toBe(before);
  });
});
