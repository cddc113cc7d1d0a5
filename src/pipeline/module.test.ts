import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { daemonConfigSchema } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { createLogger } from '../core/logger.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeItem, FakeProvider, RecordedRequest } from '../fake-provider/server.js';
import { Hub } from '../hub/hub.js';
import type { HubMessage } from '../hub/hub.js';
import { buildApp } from '../server/app.js';
import { createMetricsRegistry } from '../server/metrics.js';
import type { ModuleContext } from '../server/module.js';
import { StoreWriter } from '../store/sql-writer.js';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { demoPipelineReply } from './demo-responder.js';
import { gatewayClient } from './llm-client.js';
import { createPipelineModule } from './module.js';
import type { PipelineModule } from './module.js';
import { stageOfSystemPrompt } from './prompts.js';
import type { TaskUpdateMessage, TaskView } from './types.js';
import { waitFor } from '../testing/wait-for.js';

// The pipeline module alone (no gateway hop): its LLM client talks to the fake provider directly.
// The whole daemon path (gateway, analytics, WebSocket, restart) is in test/e2e/pipeline-*.test.ts.

interface Harness {
  mod: PipelineModule;
  app: FastifyInstance;
  hub: Hub;
  fake: FakeProvider;
  paths: ReturnType<typeof resolvePaths>;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(opts: { pipeline?: Record<string, unknown>; store?: TestStore; fake?: FakeProvider; env?: ReturnType<typeof tempCcoEnv>; redisUrl?: string; folderCheckTtlMs?: number; processEnv?: Record<string, string> } = {}): Promise<Harness> {
  const t = opts.env ?? tempCcoEnv();
  if (!opts.env) cleanups.push(() => t.cleanup());
  const store = opts.store ?? (await openTestStore());
  if (!opts.store) cleanups.push(() => store.cleanup());
  const fake = opts.fake ?? (await startFakeProvider({ responder: (r) => demoPipelineReply(r) ?? { text: 'not a pipeline request' } }));
  if (!opts.fake) cleanups.push(() => fake.close());
  const paths = resolvePaths(t.env);
  const config = daemonConfigSchema.parse({ pipeline: { request_timeout_ms: 5000, ...opts.pipeline } });
  const { logger, buffer } = createLogger({ level: 'info' });
  const hub = new Hub();
  buffer.subscribe((rec) => hub.publish('log', rec));
  const metrics = createMetricsRegistry();
  const ctx: ModuleContext = { config, paths, store: store.store, writer: new StoreWriter(store.store), logger, logs: buffer, hub, metrics, redisUrl: opts.redisUrl, accessToken: 'tok', version: '0', selfUrl: () => fake.url, env: opts.processEnv ?? {} };
  const mod = await createPipelineModule(ctx, { catalog: catalogOf([]), llm: gatewayClient({ baseUrl: () => fake.url, timeoutMs: 5000 }), ...(opts.folderCheckTtlMs === undefined ? {} : { folderCheckTtlMs: opts.folderCheckTtlMs }) });
  const app = await buildApp({ logger, metrics, security: { host: '127.0.0.1', accessToken: 'tok', port: () => 0 } });
  await mod.register?.(app);
  await app.ready();
  await mod.start?.();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await mod.close?.();
    await app.close();
  };
  cleanups.push(close);
  return { mod, app, hub, fake, paths, close };
}


const ended = (mod: PipelineModule, id: string) => waitFor(async () => {
  const t = await mod.getTask(id);
  return t && ['completed', 'failed', 'cancelled'].includes(t.status) && t.archived_at ? t : undefined;
});

const stageOf = (r: RecordedRequest) => stageOfSystemPrompt((r.body as { system?: unknown }).system);

describe('pipeline module', () => {
  it('runs a weak requirement through every stage, retrying an unparsable reply once, and writes the files', async () => {
    const h = await harness();
    let implCalls = 0;
    h.fake.setResponder((r): FakeItem => {
      if (stageOf(r) === 'implementation' && implCalls++ === 0) return { text: 'Sure! Here is your logo: <svg/>' };
      return demoPipelineReply(r) ?? { text: '' };
    });
    const seen: HubMessage[] = [];
    h.hub.subscribe((m) => seen.push(m));
    const res = await h.app.inject({ method: 'POST', url: '/api/requirements', payload: { requirement: 'a red star logo', priority: 3 } });
    expect(res.statusCode).toBe(202);
    const { task_id } = res.json<{ task_id: string }>();
    const task = await ended(h.mod, task_id);
    expect(task.status).toBe('completed');
    expect(task.prompts.original).toBe('a red star logo');
    expect(task.prompts.enhanced).toMatch(/a red star logo[\s\S]+README/);
    expect(task.output_format).toBe('svg');
    expect(task.stages.map((s) => [s.stage, s.status])).toEqual([
      ['enhancement', 'completed'],
      ['analysis', 'completed'],
      ['implementation', 'completed'],
      ['validation', 'completed'],
      ['integration', 'completed'],
    ]);
    const impl = task.stages.find((s) => s.stage === 'implementation');
    expect(impl?.calls).toBe(2);
    const retry = h.fake.requests.filter((r) => stageOf(r) === 'implementation')[1]?.body as { messages: { role: string; content: string }[] };
    expect(retry.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(retry.messages[2]?.content).toMatch(/could not be used: the reply is not JSON: "Sure! Here is your logo: <svg\/>"/);
    // each later stage saw the earlier outputs
    const validationReq = h.fake.requests.find((r) => stageOf(r) === 'validation')?.body as { messages: { content: string }[] };
    expect(validationReq.messages[0]?.content).toContain('## Output of the implementation stage');
    expect(task.files.sort()).toEqual(['README.md', 'image.svg']);
    const dir = join(h.paths.workspaceDir, 'implementation', task_id);
    expect(readFileSync(join(dir, 'image.svg'), 'utf8')).toMatch(/^<svg[\s\S]*DEMO provider/);
    expect(existsSync(join(h.paths.archiveDir, task_id, 'task.json'))).toBe(true);
    expect(existsSync(join(h.paths.archiveDir, task_id, 'files', 'image.svg'))).toBe(true);

    const events = seen.filter((m) => m.type === 'task_update').map((m) => m.data as TaskUpdateMessage).filter((d) => d.task_id === task_id).map((d) => `${d.event}${d.stage ? `:${d.stage}` : ''}`);
    expect(events).toEqual([
      'created',
      'started',
      ...['enhancement', 'analysis', 'implementation', 'validation', 'integration'].flatMap((s) => [`stage_started:${s}`, `stage_completed:${s}`]),
      'completed',
      'archived',
    ]);
    const activity = seen.filter((m) => m.type === 'agent_activity').map((m) => m.data as { agent: string; status: string; tasks_done: number });
    expect(activity.filter((a) => a.agent === 'implementer').map((a) => [a.status, a.tasks_done])).toEqual([
      ['Working', 0],
      ['Ready', 1],
    ]);
    const files = seen.filter((m) => m.type === 'file_created').map((m) => (m.data as { path: string }).path);
    expect(files.sort()).toEqual(['README.md', 'image.svg']);
    const logs = seen.filter((m) => m.type === 'log' && (m.data as { task_id?: string }).task_id === task_id).map((m) => (m.data as { msg: string }).msg);
    expect(logs.some((l) => /reply did not parse, asking again/.test(l))).toBe(true);
    expect(logs.some((l) => /file written: image.svg/.test(l))).toBe(true);
    // the seed's normal-operation lines, in order, for the greps its guide gives
    const seedLines = [`Task created: ${task_id}`, `Analysis started for ${task_id}`, /^Analysis completed in \d+\.\ds/, /^Implementation completed in \d+\.\ds/, /^Validation passed/, /^Integration successful/, `Task completed: ${task_id}`];
    const at = seedLines.map((p) => logs.findIndex((l) => (typeof p === 'string' ? l.startsWith(p) : p.test(l))));
    expect(at.every((i) => i >= 0), JSON.stringify(logs)).toBe(true);
    expect(at).toEqual([...at].sort((x, y) => x - y));

    const agents = (await h.app.inject({ url: '/api/agents' })).json<{ agents: Record<string, { status: string; tasks_done: number; last_output: string | null }> }>().agents;
    expect(Object.keys(agents)).toEqual(['enhancer', 'analyst', 'implementer', 'validator', 'integrator']);
    expect(agents.implementer).toMatchObject({ status: 'Ready', tasks_done: 1, last_output: '1 file: image.svg' });
    const list = (await h.app.inject({ url: '/api/tasks?status=completed' })).json<{ tasks: { id: string }[]; total: number }>();
    expect(list.tasks.map((t) => t.id)).toEqual([task_id]);
    const metrics = (await h.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/task_processing_duration_seconds_count\{status="completed"\} 1/);
  });

  it('skips enhancement for a specific requirement and follows the requested output format', async () => {
    const h = await harness();
    const res = await h.mod.submit({ requirement: 'Write a user guide explaining how to install, configure and run the service on Linux and macOS, with troubleshooting steps', priority: 5 });
    const task = await ended(h.mod, res.task_id);
    expect(task.status).toBe('completed');
    expect(task.prompts.enhanced).toBeNull();
    expect(task.stages[0]).toMatchObject({ stage: 'enhancement', status: 'skipped', calls: 0 });
    expect(task.output_format).toBe('markdown');
    expect(task.files).toContain('document.md');
  });

  it('keeps the output format the request asked for, whatever the analysis chose', async () => {
    const h = await harness();
    // an analyst that chooses "code" for a command line tool, whatever it was told
    h.fake.setResponder((r) => {
      const reply = demoPipelineReply(r) ?? { text: '' };
      if (stageOf(r) !== 'analysis' || !('text' in reply)) return reply;
      return { text: JSON.stringify({ ...(JSON.parse(reply.text as string) as object), output_format: 'code', language: 'javascript' }) };
    });
    const res = await h.mod.submit({ requirement: 'Build a command line tool that prints the current date in ISO format', priority: 5, output_format: 'markdown' });
    const task = await ended(h.mod, res.task_id);
    // was: "code", and the later stages were told so
    expect(task.output_format).toBe('markdown');
    const system = (r: RecordedRequest) => JSON.stringify((r.body as { system?: unknown }).system ?? '');
    const implementation = h.fake.requests.filter((r) => stageOf(r) === 'implementation');
    expect(implementation.length).toBeGreaterThan(0);
    for (const r of implementation) expect(system(r)).toContain('Output format for this task: markdown');
    // the analysis' output as the implementer is shown it (JSON inside the message text)
    const shown = JSON.stringify(implementation[0]?.body).replace(/\\"/g, '"');
    expect(shown).toMatch(/"output_format": ?"markdown"/);
    expect(shown).not.toMatch(/"output_format": ?"code"/);
  });

  it('masks a key pasted into a requirement before it is stored, shown or sent to the LLM', async () => {
    const h = await harness();
    const res = await h.mod.submit({ requirement: 'Write a user guide for deploying with GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 and key sk-ant-api03-abcdefghijklmnop on Linux, with troubleshooting steps', priority: 5 });
    const task = await ended(h.mod, res.task_id);
    const all = JSON.stringify(task);
    expect(all).not.toContain('ghp_abcdef');
    expect(all).not.toContain('sk-ant-api03-abcdef');
    expect(task.requirement).toContain('GITHUB_TOKEN=[REDACTED]');
  });

  it("keeps a requirement's ordinary words as written: URL parameters that only look like secrets by name", async () => {
    const h = await harness();
    const requirement = 'Handle the OAuth redirect at /auth/callback?code=abc123&state=xyz and report ?pass_rate=0.9&signature_version=4&auth=basic in the dashboard';
    const res = await h.mod.submit({ requirement, priority: 5 });
    const task = await ended(h.mod, res.task_id);
    expect(task.requirement).toBe(requirement);
  });

  it('fails the task with the reason when the validator errors, keeping the raw reply of an unparsable one', async () => {
    const h = await harness({ pipeline: { call_retries: 1 } });
    h.fake.setResponder((r) => (stageOf(r) === 'validation' ? { fault: 'status', status: 500 } : (demoPipelineReply(r) ?? { text: '' })));
    const seen: HubMessage[] = [];
    h.hub.subscribe((m) => seen.push(m));
    const { task_id } = await h.mod.submit({ requirement: 'Build a command line tool that counts words in a file and prints the total', priority: 5 });
    const task = await ended(h.mod, task_id);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/Quality Validator \(validation\) could not get an answer: the gateway answered 500 api_error: fake provider: injected 500 \(2 attempts\)/);
    expect(task.stages.map((s) => s.status)).toEqual(['skipped', 'completed', 'completed', 'failed', 'cancelled']);
    expect(h.fake.requests.filter((r) => stageOf(r) === 'integration')).toHaveLength(0);
    const failed = seen.map((m) => m.data as TaskUpdateMessage).find((d) => d.event === 'failed');
    expect(failed?.error).toBe(task.error);
    const agents = await h.mod.listAgents();
    expect(agents.validator).toMatchObject({ status: 'Error', last_error: task.error });

    // a validator that answers, but never with usable JSON: failed with the raw reply kept
    h.fake.setResponder((r) => (stageOf(r) === 'validation' ? { text: 'LGTM, ship it' } : (demoPipelineReply(r) ?? { text: '' })));
    const second = await h.mod.submit({ requirement: 'Build a command line tool that counts lines in a file and prints the total', priority: 5 });
    const t2 = await ended(h.mod, second.task_id);
    const v = t2.stages.find((s) => s.stage === 'validation');
    expect(v).toMatchObject({ status: 'failed', raw_reply: 'LGTM, ship it', calls: 2 });
    expect(t2.error).toMatch(/reply could not be used after 2 attempts: the reply is not JSON: "LGTM, ship it"/);
  });

  it('refuses bad input with a 4xx naming the field', async () => {
    const h = await harness({ pipeline: { max_requirement_chars: 1000 } });
    const post = (payload: unknown) => h.app.inject({ method: 'POST', url: '/api/requirements', payload: payload as object });
    const cases: [unknown, string][] = [
      [{ requirement: '', priority: 1 }, 'body.requirement'],
      [{ requirement: '   ', priority: 1 }, 'body.requirement'],
      [{ requirement: 'x'.repeat(1001), priority: 1 }, 'body.requirement'],
      [{ requirement: 42, priority: 1 }, 'body.requirement'],
      [{ priority: 1 }, 'body.requirement'],
      [{ requirement: 'ok', priority: 0 }, 'body.priority'],
      [{ requirement: 'ok', priority: 11 }, 'body.priority'],
      [{ requirement: 'ok', priority: 2.5 }, 'body.priority'],
      [{ requirement: 'ok', priority: '1' }, 'body.priority'],
      [{ requirement: 'ok', output_format: 'pdf' }, 'body.output_format'],
      [[1, 2], 'body'],
    ];
    for (const [payload, field] of cases) {
      const r = await post(payload);
      expect(r.statusCode, JSON.stringify(payload).slice(0, 60)).toBe(400);
      expect(r.json<{ error: { field: string } }>().error.field).toBe(field);
    }
    const huge = await h.app.inject({ method: 'POST', url: '/api/requirements', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ requirement: 'x'.repeat(2 * 1024 * 1024), priority: 1 }) });
    expect(huge.statusCode).toBe(413);
    const bad = await h.app.inject({ method: 'POST', url: '/api/requirements', headers: { 'content-type': 'application/json' }, payload: '{"requirement": ' });
    expect(bad.statusCode).toBe(400);
    expect((await h.app.inject({ url: '/api/tasks/t_doesnotexist1' })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/api/tasks/..%2Fetc' })).json<{ error: { field: string } }>().error.field).toBe('params.id');
    expect((await h.app.inject({ url: '/api/tasks?limit=0' })).json<{ error: { field: string } }>().error.field).toBe('query.limit');
    expect((await h.app.inject({ method: 'POST', url: '/api/tasks/t_doesnotexist1/cancel' })).statusCode).toBe(404);
    expect((await h.mod.listTasks()).total).toBe(0);
  });

  it('runs by priority within the concurrency limit and cancels queued and running tasks', async () => {
    const h = await harness({ pipeline: { concurrency: 1 } });
    let release: (() => void) | undefined;
    const gate = new Promise<void>((r) => (release = r));
    h.fake.setResponder(async (r) => {
      const body = r.body as { messages: { content: string }[] };
      if (body.messages[0]?.content.includes('FIRST')) await gate;
      return demoPipelineReply(r) ?? { text: '' };
    });
    const req = (tag: string, priority: number) => h.mod.submit({ requirement: `${tag}: build a command line tool that prints the current date in ISO format`, priority });
    const first = await req('FIRST', 5);
    await waitFor(() => h.fake.activeRequests > 0 || undefined);
    const low = await req('LOW', 1);
    const high = await req('HIGH', 9);
    const doomed = await req('DOOMED', 7);
    const cancelled = await h.app.inject({ method: 'POST', url: `/api/tasks/${doomed.task_id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<TaskView>().status).toBe('cancelled');
    expect((await h.app.inject({ method: 'POST', url: `/api/tasks/${doomed.task_id}/cancel` })).statusCode).toBe(409);
    expect((await h.mod.getTask(low.task_id))?.status).toBe('queued');
    release?.();
    for (const t of [first, low, high]) expect((await ended(h.mod, t.task_id)).status).toBe('completed');
    const started = (id: string) => h.fake.requests.findIndex((r) => (r.body as { messages: { content: string }[] }).messages[0]?.content.includes(id));
    const order = ['FIRST', 'HIGH', 'LOW'].map((tag) => h.fake.requests.findIndex((r) => (r.body as { messages: { content: string }[] }).messages[0]?.content.startsWith(`## Requirement\n${tag}`)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(started('DOOMED')).toBe(-1);

    // cancel while a call is in flight: the call is aborted, the stage is closed
    h.fake.setResponder((r) => (stageOf(r) === 'analysis' ? { fault: 'hang' } : (demoPipelineReply(r) ?? { text: '' })));
    const running = await req('RUNNING', 5);
    await waitFor(() => h.fake.activeRequests > 0 || undefined);
    expect((await h.mod.cancel(running.task_id)).status).toBe('cancelled');
    await waitFor(() => h.fake.disconnects > 0 || undefined);
    const t = await ended(h.mod, running.task_id);
    expect(t.stages.find((s) => s.stage === 'analysis')?.status).toBe('cancelled');
    expect((await h.mod.listAgents()).analyst?.status).toBe('Ready');
  });

  it("an agent's card stays Working while another task is still in its stage (one task's end is not the agent's)", async () => {
    const h = await harness({ pipeline: { concurrency: 2 } });
    let release: (() => void) | undefined;
    const gate = new Promise<void>((r) => (release = r));
    h.fake.setResponder(async (r) => {
      const body = r.body as { messages: { content: string }[] };
      if (stageOf(r) === 'analysis' && body.messages[0]?.content.includes('ALPHA')) await gate;
      return demoPipelineReply(r) ?? { text: '' };
    });
    const alpha = await h.mod.submit({ requirement: 'ALPHA: build a command line tool that prints the current date in ISO format', priority: 5 });
    await waitFor(() => h.fake.activeRequests > 0 || undefined);
    const beta = await h.mod.submit({ requirement: 'BETA: build a command line tool that prints the current time in ISO format', priority: 5 });
    // BETA's analysis ends while ALPHA's goes on
    await waitFor(async () => ((await h.mod.getTask(beta.task_id))?.stages.find((s) => s.stage === 'analysis')?.status === 'completed' ? true : undefined));
    const analyst = h.hub.recent({ types: ['agent_activity'] }).map((m) => m.data as { agent: string; status: string; task_id: string | null; last_task_id: string | null }).filter((d) => d.agent === 'analyst');
    const last = analyst[analyst.length - 1];
    // was: Ready with no task, while GET /api/agents said Working
    expect(last).toMatchObject({ status: 'Working', task_id: alpha.task_id, last_task_id: beta.task_id });
    expect((await h.mod.listAgents()).analyst?.status).toBe('Working');
    release?.();
    for (const t of [alpha, beta]) expect((await ended(h.mod, t.task_id)).status).toBe('completed');
    const after = h.hub.recent({ types: ['agent_activity'] }).map((m) => m.data as { agent: string; status: string }).filter((d) => d.agent === 'analyst');
    expect(after[after.length - 1]?.status).toBe('Ready');
  });

  it('resumes an interrupted task at the running stage without redoing finished ones', async () => {
    const env = tempCcoEnv();
    cleanups.push(() => env.cleanup());
    const store = await openTestStore();
    cleanups.push(() => store.cleanup());
    const fake = await startFakeProvider({ responder: (r) => (stageOf(r) === 'implementation' ? { fault: 'hang' } : (demoPipelineReply(r) ?? { text: '' })) });
    cleanups.push(() => fake.close());
    const a = await harness({ store, fake, env });
    const { task_id } = await a.mod.submit({ requirement: 'Build a command line tool that converts Celsius to Fahrenheit and back', priority: 5 });
    await waitFor(() => fake.requests.some((r) => stageOf(r) === 'implementation') || undefined);
    await a.close();
    expect((await a.mod.getTask(task_id))?.status).toBe('running');
    fake.setResponder((r) => demoPipelineReply(r) ?? { text: '' });
    const b = await harness({ store, fake, env });
    const task = await ended(b.mod, task_id);
    expect(task.status).toBe('completed');
    const count = (s: string) => fake.requests.filter((r) => stageOf(r) === s).length;
    expect(count('analysis')).toBe(1);
    expect(count('implementation')).toBe(2);
    expect(task.stages.find((s) => s.stage === 'implementation')?.attempts).toBe(2);
    expect(task.stages.find((s) => s.stage === 'analysis')?.attempts).toBe(1);
  });
});

describe('archives after a kill', () => {
  it('archives at start an ended task a kill left unarchived, replacing a half archive, without temporary files', async () => {
    const env = tempCcoEnv();
    cleanups.push(() => env.cleanup());
    const store = await openTestStore();
    cleanups.push(() => store.cleanup());
    const a = await harness({ store, env });
    const { task_id } = await a.mod.submit({ requirement: 'Build a command line tool that converts Celsius to Fahrenheit and back', priority: 5 });
    await ended(a.mod, task_id);
    await a.close();
    // what a kill -9 right after the task completed left: no archive recorded, a half-copied
    // archive at the final path, and a temporary file of a write in the task folder
    await store.store.db.updateTable('pipeline_tasks').set({ archived_at: null, archive_path: null }).where('id', '=', task_id).execute();
    const archive = join(a.paths.archiveDir, task_id);
    rmSync(archive, { recursive: true });
    mkdirSync(join(archive, 'files'), { recursive: true });
    writeFileSync(join(archive, 'files', 'README.md'), 'half');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const tmp = join(a.paths.workspaceDir, 'implementation', task_id, `.main.js.${dead}.0123abcd.tmp`);
    writeFileSync(tmp, 'half');

    const b = await harness({ store, env });
    const t = await ended(b.mod, task_id);
    expect(t.archive_path).toBe(archive);
    expect(JSON.parse(readFileSync(join(archive, 'task.json'), 'utf8'))).toMatchObject({ id: task_id, status: 'completed' });
    expect(readdirSync(join(archive, 'files')).sort()).toEqual(['README.md', 'main.js']);
    expect(readFileSync(join(archive, 'files', 'README.md'), 'utf8')).not.toBe('half');
    expect(existsSync(tmp)).toBe(false);
  });
});

describe('archives retention deleted', () => {
  for (const dialect of testDialects()) {
    it(`are no longer named by their tasks (archive_path null, archived_at kept, not archived again) (${dialect})`, async () => {
      const env = tempCcoEnv();
      cleanups.push(() => env.cleanup());
      const store = await openTestStore(dialect);
      cleanups.push(() => store.cleanup());
      const a = await harness({ store, env });
      const ids: string[] = [];
      for (const n of ['one', 'two', 'three']) ids.push((await a.mod.submit({ requirement: `Build a command line tool that prints the number ${n} in words`, priority: 5 })).task_id);
      for (const id of ids) await ended(a.mod, id);
      await a.close();
      // oldest first, a minute apart (retention keeps the newest by the folder's time)
      ids.forEach((id, i) => {
        const t = (Date.now() - (10 - i) * 60_000) / 1000;
        utimesSync(join(a.paths.archiveDir, id), t, t);
      });

      // the start-up cleanup applies the lowered bound
      const b = await harness({ store, env, pipeline: { archive_max_tasks: 1 } });
      const view = async (id: string) => (await b.app.inject({ method: 'GET', url: `/api/tasks/${id}` })).json<TaskView>();
      await waitFor(async () => ((await view(ids[1] as string)).archive_path === null ? true : undefined));
      expect(readdirSync(a.paths.archiveDir)).toEqual([ids[2]]);
      for (const id of ids.slice(0, 2)) {
        const t = await view(id);
        expect(t.archive_path, id).toBeNull();
        expect(t.archived_at, id).toEqual(expect.any(Number));
      }
      expect((await view(ids[2] as string)).archive_path).toBe(join(a.paths.archiveDir, ids[2] as string));
      // archived_at kept: the sweep for missing archives does not bring them back
      await new Promise((r) => setTimeout(r, 200));
      expect(readdirSync(a.paths.archiveDir)).toEqual([ids[2]]);
    });
  }
});

describe('task folders retention deleted', () => {
  it('are no longer named by their tasks (workspace_path null)', async () => {
    const env = tempCcoEnv();
    cleanups.push(() => env.cleanup());
    const store = await openTestStore('sqlite');
    cleanups.push(() => store.cleanup());
    const a = await harness({ store, env });
    const { task_id } = await a.mod.submit({ requirement: 'Build a command line tool that prints the date in words', priority: 5 });
    const done = await ended(a.mod, task_id);
    expect(done.workspace_path).toBe(join(a.paths.workspaceDir, 'implementation', task_id));
    await a.close();
    const old = (Date.now() - 40 * 86_400_000) / 1000;
    utimesSync(join(a.paths.workspaceDir, 'implementation', task_id), old, old);
    const b = await harness({ store, env, pipeline: { workspace_retention_days: 30 } });
    const view = async () => (await b.app.inject({ method: 'GET', url: `/api/tasks/${task_id}` })).json<TaskView>();
    await waitFor(async () => ((await view()).workspace_path === null ? true : undefined));
    expect(existsSync(join(a.paths.workspaceDir, 'implementation', task_id))).toBe(false);
    // its archive is kept and still named
    expect((await view()).archive_path).toBe(join(a.paths.archiveDir, task_id));
  });
});

describe('a reply cut at max_tokens', () => {
  it('says so in the stage error', async () => {
    const h = await harness({ pipeline: { parse_retries: 0 } });
    h.fake.setResponder((r) => (stageOf(r) === 'analysis' ? { text: '{"summary": "half a plan', stopReason: 'max_tokens' } : (demoPipelineReply(r) ?? { text: '' })));
    const { task_id } = await h.mod.submit({ requirement: 'Build a command line tool that lists the largest files in a directory tree', priority: 5 });
    const t = await ended(h.mod, task_id);
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/the reply was cut off at max_tokens = 8192; raise \[pipeline\] max_tokens/);
    expect(t.stages.find((s) => s.stage === 'analysis')?.raw_reply).toBe('{"summary": "half a plan');
  });
});

describe('with its Redis unreachable', () => {
  it('still accepts requirements (stored durably), reports degraded health and closes', async () => {
    const h = await harness({ redisUrl: 'redis://127.0.0.1:1' });
    const t0 = Date.now();
    const res = await h.app.inject({ method: 'POST', url: '/api/requirements', payload: { requirement: 'Build a command line tool that prints the weather', priority: 5 } });
    expect(res.statusCode).toBe(202);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect((await h.mod.getTask(res.json<{ task_id: string }>().task_id))?.status).toBe('queued');
    // Once the queue is known to be failing, the next submits do not wait for it again.
    const t1 = Date.now();
    const again = await h.app.inject({ method: 'POST', url: '/api/requirements', payload: { requirement: 'Build a command line tool that prints the tides', priority: 5 } });
    expect(again.statusCode).toBe(202);
    expect(Date.now() - t1).toBeLessThan(2000);
    expect((await h.mod.getTask(again.json<{ task_id: string }>().task_id))?.status).toBe('queued');
    const health = await h.mod.health?.();
    expect(health).toMatchObject({ status: 'degraded', queue: 'bullmq' });
    await h.close();
  }, 30_000);

  it('starts with unfinished tasks in the store, and /metrics and a cancel answer, without waiting for Redis', async () => {
    const env = tempCcoEnv();
    cleanups.push(() => env.cleanup());
    const store = await openTestStore();
    cleanups.push(() => store.cleanup());
    // a task left queued by the last run (stored while Redis was away, in the local queue's daemon)
    const first = await harness({ env, store });
    const res = await first.app.inject({ method: 'POST', url: '/api/requirements', payload: { requirement: 'Build a command line tool that prints the weather', priority: 5 } });
    const id = res.json<{ task_id: string }>().task_id;
    await first.mod.cancel?.(id).catch(() => undefined);
    await store.store.db.updateTable('pipeline_tasks').set({ status: 'queued' }).where('id', '=', id).execute();
    await first.close();

    const t0 = Date.now();
    // was: start() waited for Redis to take the task (for ever): no "daemon started"
    const h = await harness({ env, store, redisUrl: 'redis://127.0.0.1:1' });
    expect(Date.now() - t0).toBeLessThan(5000);
    const t1 = Date.now();
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    // was: no answer while Redis stayed away
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('cco_pipeline_tasks_active');
    expect(Date.now() - t1).toBeLessThan(4000);
    const t2 = Date.now();
    const cancel = await h.app.inject({ method: 'POST', url: `/api/tasks/${id}/cancel` });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json<{ status: string }>().status).toBe('cancelled');
    expect(Date.now() - t2).toBeLessThan(4000);
    await h.close();
  }, 30_000);
});

describe('a workspace this user cannot write (seed 002: file system permissions)', () => {
  const requirement = 'Build a command line tool that prints the phases of the moon';

  // a file where the folder goes fails for root too: this case runs wherever the tests do
  it('reports degraded health naming the file in the way, and fails each task with the cause and the fix', async () => {
    const h = await harness({ folderCheckTtlMs: 0 });
    expect(await h.mod.health?.()).toMatchObject({ status: 'ok' });
    const blocker = join(h.paths.workspaceDir, 'implementation');
    mkdirSync(h.paths.workspaceDir, { recursive: true });
    writeFileSync(blocker, 'not a folder');
    const health = await h.mod.health?.();
    expect(health).toMatchObject({ status: 'degraded', queue: 'local', error: `a file is in the way: ${blocker} is a file where the workspace folder needs a folder (ENOTDIR): move or remove that file; until then every task fails when it writes its files` });

    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    const t = await ended(h.mod, task_id);
    expect(t.status).toBe('failed');
    expect(t.error).toBe(`integration could not write the files: a file is in the way: ${blocker} is a file where the workspace folder needs a folder (ENOTDIR): move or remove that file, then retry the task (POST /api/tasks/${task_id}/retry)`);

    rmSync(blocker);
    expect(await h.mod.health?.()).toMatchObject({ status: 'ok' });
  }, 30_000);

  it('checks the folders at most every few seconds, so /health stays cheap', async () => {
    const h = await harness();
    expect(await h.mod.health?.()).toMatchObject({ status: 'ok' });
    mkdirSync(h.paths.workspaceDir, { recursive: true });
    writeFileSync(join(h.paths.workspaceDir, 'implementation'), 'not a folder');
    expect(await h.mod.health?.()).toMatchObject({ status: 'ok' });
  });

  it.skipIf(process.getuid?.() === 0)('names the folder and the fix when its permissions refuse this user (EACCES)', async () => {
    const h = await harness();
    const impl = join(h.paths.workspaceDir, 'implementation');
    mkdirSync(impl, { recursive: true });
    chmodSync(impl, 0o555);
    try {
      expect(await h.mod.health?.()).toMatchObject({ status: 'degraded', error: expect.stringMatching(new RegExp(`^the workspace folder ${impl} is not writable by this user \\(.+\\) \\(EACCES\\): fix its owner/permissions \\(e\\.g\\. chown`)) as unknown });
      const { task_id } = await h.mod.submit({ requirement, priority: 5 });
      const t = await ended(h.mod, task_id);
      expect(t.error).toMatch(new RegExp(`^integration could not write the files: the workspace folder ${impl} is not writable by this user .*\\(EACCES\\): fix its owner/permissions .*, then retry the task \\(POST /api/tasks/${t.id}/retry\\)$`));
    } finally {
      chmodSync(impl, 0o755);
    }
  }, 30_000);
});

const quietly = (r: RecordedRequest) => r.headers['x-cco-cache'];
const taskUpdates = (seen: HubMessage[], id: string) => seen.filter((m) => m.type === 'task_update').map((m) => m.data as TaskUpdateMessage).filter((d) => d.task_id === id);
const logLines = (seen: HubMessage[], id: string) => seen.filter((m) => m.type === 'log' && (m.data as { task_id?: string }).task_id === id).map((m) => (m.data as { msg: string }).msg);
const REJECTED = { passed: false, score: 10, issues: [{ severity: 'critical', message: 'Syntax error on line 42' }], summary: 'Syntax error on line 42' };

describe('a validator that rejects the implementation (PRODUCT.md: "a failing validator is reported as a failure")', () => {
  const requirement = 'Build a command line tool that prints the lines of a file in reverse order';

  it('fails the task with "Validation failed: <summary>", the verdict on the task, its list row and its hub message', async () => {
    const h = await harness();
    h.fake.setResponder((r) => (stageOf(r) === 'validation' ? { text: JSON.stringify(REJECTED) } : (demoPipelineReply(r) ?? { text: '' })));
    const seen: HubMessage[] = [];
    h.hub.subscribe((m) => seen.push(m));
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    const task = await ended(h.mod, task_id);
    expect(task).toMatchObject({ status: 'failed', error: 'Validation failed: Syntax error on line 42', validation: { passed: false, score: 10, summary: 'Syntax error on line 42' } });
    // the validator did its work; the task failed, and nothing was integrated
    expect(task.stages.map((s) => s.status)).toEqual(['skipped', 'completed', 'completed', 'completed', 'cancelled']);
    expect(h.fake.requests.filter((r) => stageOf(r) === 'integration')).toHaveLength(0);
    const rows = (await h.app.inject({ url: '/api/tasks?limit=1' })).json<{ tasks: TaskView[] }>().tasks;
    expect(rows[0]).toMatchObject({ id: task_id, status: 'failed', error: 'Validation failed: Syntax error on line 42', validation: { passed: false, score: 10, summary: 'Syntax error on line 42' } });
    const failed = taskUpdates(seen, task_id).find((d) => d.event === 'failed');
    expect(failed).toMatchObject({ status: 'failed', error: 'Validation failed: Syntax error on line 42', validation: { passed: false, score: 10 } });
    expect(logLines(seen, task_id).filter((l) => l.startsWith('Validation failed: Syntax error on line 42 (score 10; critical: Syntax error on line 42)'))).toHaveLength(1);
    expect((await h.mod.listAgents()).validator).toMatchObject({ status: 'Ready', last_output: 'rejected (score 10): Syntax error on line 42' });
    expect((await h.app.inject({ url: '/metrics' })).body).toMatch(/task_processing_duration_seconds_count\{status="failed"\} 1/);
  });

  it('a resume after a kill between the rejection and the task\'s end still fails the task: what the validator refused is not integrated', async () => {
    const env = tempCcoEnv();
    cleanups.push(() => env.cleanup());
    const store = await openTestStore();
    cleanups.push(() => store.cleanup());
    // the first run stops once the rejection is stored and before the task has ended: its
    // integration hangs (the setting lets it start), as a kill between the two writes leaves it
    const fake = await startFakeProvider({ responder: (r) => (stageOf(r) === 'validation' ? { text: JSON.stringify(REJECTED) } : stageOf(r) === 'integration' ? { fault: 'hang' } : (demoPipelineReply(r) ?? { text: '' })) });
    cleanups.push(() => fake.close());
    const a = await harness({ store, fake, env, pipeline: { fail_on_validation_reject: false } });
    const { task_id } = await a.mod.submit({ requirement, priority: 5 });
    await waitFor(() => fake.requests.some((r) => stageOf(r) === 'integration') || undefined);
    await a.close();
    expect((await a.mod.getTask(task_id))?.stages.find((s) => s.stage === 'validation')?.status).toBe('completed');
    fake.setResponder((r) => demoPipelineReply(r) ?? { text: '' });
    const b = await harness({ store, fake, env });
    const task = await ended(b.mod, task_id);
    // was: completed, integrated and its files written
    expect(task).toMatchObject({ status: 'failed', error: 'Validation failed: Syntax error on line 42' });
    expect(fake.requests.filter((r) => stageOf(r) === 'integration')).toHaveLength(1);
    expect(task.stages.find((s) => s.stage === 'integration')?.status).toBe('cancelled');
  });

  it('with fail_on_validation_reject = false completes the task, still showing and logging the verdict', async () => {
    const h = await harness({ pipeline: { fail_on_validation_reject: false } });
    h.fake.setResponder((r) => (stageOf(r) === 'validation' ? { text: JSON.stringify(REJECTED) } : (demoPipelineReply(r) ?? { text: '' })));
    const seen: HubMessage[] = [];
    h.hub.subscribe((m) => seen.push(m));
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    const task = await ended(h.mod, task_id);
    expect(task).toMatchObject({ status: 'completed', error: null, validation: { passed: false, score: 10, summary: 'Syntax error on line 42' } });
    expect(task.files).toContain('main.js');
    expect((await h.mod.listTasks()).tasks[0]?.validation).toEqual({ passed: false, score: 10, summary: 'Syntax error on line 42' });
    expect(taskUpdates(seen, task_id).find((d) => d.event === 'completed')?.validation).toEqual({ passed: false, score: 10, summary: 'Syntax error on line 42' });
    expect(logLines(seen, task_id).some((l) => l.startsWith('Validation failed: Syntax error on line 42') && l.includes('completes anyway'))).toBe(true);
  });

  it('puts a passing verdict on the completed task and its hub message too', async () => {
    const h = await harness();
    const seen: HubMessage[] = [];
    h.hub.subscribe((m) => seen.push(m));
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    const task = await ended(h.mod, task_id);
    const verdict = { passed: true, score: 80, summary: 'The files match the planned structure.' };
    expect(task).toMatchObject({ status: 'completed', validation: verdict, retries: 0 });
    expect(taskUpdates(seen, task_id).find((d) => d.event === 'completed')?.validation).toEqual(verdict);
  });
});

describe('POST /api/tasks/:id/retry', () => {
  const requirement = 'Build a command line tool that prints the prime numbers below a limit';

  it('reruns a failed task from its failed stage, keeping the finished ones, and asks the provider again (cache bypass)', async () => {
    const h = await harness({ pipeline: { call_retries: 0 } });
    h.fake.setResponder((r) => (stageOf(r) === 'implementation' ? { fault: 'status', status: 500 } : (demoPipelineReply(r) ?? { text: '' })));
    const seen: HubMessage[] = [];
    h.hub.subscribe((m) => seen.push(m));
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    const failed = await ended(h.mod, task_id);
    expect(failed.status).toBe('failed');
    expect(h.fake.requests.every((r) => quietly(r) === undefined)).toBe(true);
    const before = h.fake.requests.length;

    h.fake.setResponder((r) => demoPipelineReply(r) ?? { text: '' });
    const res = await h.app.inject({ method: 'POST', url: `/api/tasks/${task_id}/retry` });
    expect(res.statusCode).toBe(202);
    expect(res.json<TaskView>()).toMatchObject({ id: task_id, status: 'queued', error: null, retries: 1, archive_path: null });
    const task = await ended(h.mod, task_id);
    expect(task).toMatchObject({ status: 'completed', error: null, retries: 1 });
    const again = h.fake.requests.slice(before);
    // analysis finished before the failure: not asked again; the rest was, past the gateway's cache
    expect(again.map(stageOf)).toEqual(['implementation', 'validation', 'integration']);
    expect(again.map(quietly)).toEqual(['bypass', 'bypass', 'bypass']);
    expect(task.stages.map((s) => [s.stage, s.status, s.attempts])).toEqual([
      ['enhancement', 'skipped', 0],
      ['analysis', 'completed', 1],
      ['implementation', 'completed', 2],
      ['validation', 'completed', 1],
      ['integration', 'completed', 1],
    ]);
    // the archive is the rerun's, not the failed run's
    expect(JSON.parse(readFileSync(join(h.paths.archiveDir, task_id, 'task.json'), 'utf8'))).toMatchObject({ status: 'completed', retries: 1 });
    const events = taskUpdates(seen, task_id).map((d) => d.event);
    expect(events.slice(events.indexOf('failed'))).toEqual(['failed', 'archived', 'retried', 'started', 'stage_skipped', 'stage_started', 'stage_completed', 'stage_started', 'stage_completed', 'stage_started', 'stage_completed', 'completed', 'archived']);
    expect(taskUpdates(seen, task_id).find((d) => d.event === 'retried')).toMatchObject({ status: 'queued', detail: { from: 'implementation', retries: 1, previous_status: 'failed' } });
  });

  it('reruns a validation-rejected task from its implementation, giving the implementer the issues', async () => {
    const h = await harness();
    let verdicts = 0;
    h.fake.setResponder((r) => (stageOf(r) === 'validation' && verdicts++ === 0 ? { text: JSON.stringify(REJECTED) } : (demoPipelineReply(r) ?? { text: '' })));
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    expect((await ended(h.mod, task_id)).error).toBe('Validation failed: Syntax error on line 42');
    const before = h.fake.requests.length;
    const retried = await h.mod.retry(task_id);
    expect(retried).toMatchObject({ status: 'queued', validation: null });
    const task = await ended(h.mod, task_id);
    expect(task).toMatchObject({ status: 'completed', error: null, validation: { passed: true } });
    const again = h.fake.requests.slice(before);
    expect(again.map(stageOf)).toEqual(['implementation', 'validation', 'integration']);
    const prompt = (again[0]?.body as { messages: { content: string }[] }).messages[0]?.content ?? '';
    expect(prompt).toContain('## The validator rejected the previous implementation (fix every issue)');
    expect(prompt).toContain('Syntax error on line 42');
    // the validator judges the new implementation, not the old verdict
    expect((again[1]?.body as { messages: { content: string }[] }).messages[0]?.content).not.toContain('rejected the previous implementation');
  });

  it('keeps the issues to fix when the rerun implementation fails and is retried again', async () => {
    const h = await harness({ pipeline: { call_retries: 0 } });
    h.fake.setResponder((r) => (stageOf(r) === 'validation' ? { text: JSON.stringify(REJECTED) } : (demoPipelineReply(r) ?? { text: '' })));
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    await ended(h.mod, task_id);
    h.fake.setResponder((r) => (stageOf(r) === 'implementation' ? { fault: 'status', status: 500 } : (demoPipelineReply(r) ?? { text: '' })));
    await h.mod.retry(task_id);
    expect((await ended(h.mod, task_id)).stages.find((s) => s.stage === 'implementation')?.status).toBe('failed');
    h.fake.setResponder((r) => demoPipelineReply(r) ?? { text: '' });
    const before = h.fake.requests.length;
    await h.mod.retry(task_id);
    expect(await ended(h.mod, task_id)).toMatchObject({ status: 'completed', retries: 2 });
    const impl = h.fake.requests.slice(before).find((r) => stageOf(r) === 'implementation')?.body as { messages: { content: string }[] };
    expect(impl.messages[0]?.content).toContain('Syntax error on line 42');
  });

  it('retries a task completed despite a rejection and a cancelled one; the folder holds only the rerun files', async () => {
    const h = await harness({ pipeline: { fail_on_validation_reject: false } });
    let implementations = 0;
    let verdicts = 0;
    h.fake.setResponder((r) => {
      const stage = stageOf(r);
      if (stage === 'validation' && verdicts++ === 0) return { text: JSON.stringify(REJECTED) };
      if (stage === 'implementation' && implementations++ === 0) return { text: JSON.stringify({ files: [{ path: 'old.js', content: 'broken(' }] }) };
      return demoPipelineReply(r) ?? { text: '' };
    });
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    const first = await ended(h.mod, task_id);
    expect(first).toMatchObject({ status: 'completed', validation: { passed: false } });
    expect(existsSync(join(first.workspace_path ?? '', 'old.js'))).toBe(true);
    await h.mod.retry(task_id);
    const task = await ended(h.mod, task_id);
    expect(task).toMatchObject({ status: 'completed', validation: { passed: true }, retries: 1 });
    expect(readdirSync(task.workspace_path ?? '').sort()).toEqual(['README.md', 'main.js']);
    expect(readdirSync(join(h.paths.archiveDir, task_id, 'files')).sort()).toEqual(['README.md', 'main.js']);

    // a cancelled task (here while queued) runs from its first stage
    h.fake.setResponder(async (r) => (stageOf(r) === 'analysis' ? { fault: 'hang' } : (demoPipelineReply(r) ?? { text: '' })));
    const hung = await h.mod.submit({ requirement: `${requirement} (second)`, priority: 5 });
    await waitFor(() => h.fake.activeRequests > 0 || undefined);
    await h.mod.cancel(hung.task_id);
    await ended(h.mod, hung.task_id);
    h.fake.setResponder((r) => demoPipelineReply(r) ?? { text: '' });
    await h.mod.retry(hung.task_id);
    expect((await ended(h.mod, hung.task_id)).status).toBe('completed');
  });

  it('answers 409 naming the status for a task that cannot be retried, 404 for an unknown one', async () => {
    const h = await harness({ pipeline: { concurrency: 1 } });
    const { task_id } = await h.mod.submit({ requirement, priority: 5 });
    await ended(h.mod, task_id);
    const done = await h.app.inject({ method: 'POST', url: `/api/tasks/${task_id}/retry` });
    expect(done.statusCode).toBe(409);
    expect(done.json<{ error: { message: string } }>().error.message).toBe(`Task ${task_id} is completed and cannot be retried (it completed and its validation passed); only a failed or cancelled task, or one whose validation failed, can be retried`);
    h.fake.setResponder(async (r) => (stageOf(r) === 'analysis' ? { fault: 'hang' } : (demoPipelineReply(r) ?? { text: '' })));
    const running = await h.mod.submit({ requirement: `${requirement} (running)`, priority: 5 });
    const queued = await h.mod.submit({ requirement: `${requirement} (queued)`, priority: 5 });
    await waitFor(async () => ((await h.mod.getTask(running.task_id))?.status === 'running' ? true : undefined));
    for (const [id, status] of [[running.task_id, 'running'], [queued.task_id, 'queued']]) {
      const r = await h.app.inject({ method: 'POST', url: `/api/tasks/${id}/retry` });
      expect(r.statusCode).toBe(409);
      expect(r.json<{ error: { message: string } }>().error.message).toContain(`is ${status} and cannot be retried (it is still ${status})`);
    }
    expect((await h.app.inject({ method: 'POST', url: '/api/tasks/t_doesnotexist1/retry' })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'POST', url: '/api/tasks/nope/retry' })).json<{ error: { field: string } }>().error.field).toBe('params.id');
  });
});

describe('the seed\'s LLM settings in the environment', () => {
  it('LLM_MAX_TOKENS, LLM_TEMPERATURE and LLM_MODEL reach every stage\'s call, over daemon.toml', async () => {
    const h = await harness({ pipeline: { max_tokens: 4000, temperature: 0.3 }, processEnv: { LLM_MAX_TOKENS: '2000', LLM_TEMPERATURE: '0.05', LLM_MODEL: 'claude-haiku-4-5' } });
    const { task_id } = await h.mod.submit({ requirement: 'a tiny clock', priority: 5 });
    expect((await ended(h.mod, task_id)).status).toBe('completed');
    const bodies = h.fake.requests.map((r) => r.body as { model: string; max_tokens: number; temperature: number });
    expect(h.fake.requests.map(stageOf)).toEqual(['enhancement', 'analysis', 'implementation', 'validation', 'integration']);
    for (const b of bodies) expect([b.model, b.max_tokens, b.temperature]).toEqual(['claude-haiku-4-5', 2000, 0.05]);
    expect(Object.values(await h.mod.listAgents()).map((a) => a.model)).toEqual(Array(5).fill('claude-haiku-4-5'));
  });

  it('refuses a malformed value naming the variable', async () => {
    await expect(harness({ processEnv: { LLM_MAX_TOKENS: 'lots' } })).rejects.toThrow('LLM_MAX_TOKENS=lots is not a number; change or unset LLM_MAX_TOKENS');
    await expect(harness({ processEnv: { LLM_TEMPERATURE: '3' } })).rejects.toThrow(/^LLM_TEMPERATURE=3: .*; change or unset LLM_TEMPERATURE$/);
  });
});

describe('a stage reply in plain text', () => {
  it('fails saying the reply was not JSON, with its beginning', async () => {
    const h = await harness({ pipeline: { parse_retries: 1 } });
    h.fake.setResponder((r) => (stageOf(r) === 'implementation' ? { text: 'Sure! here is your code: function x() {}' } : (demoPipelineReply(r) ?? { text: '' })));
    const { task_id } = await h.mod.submit({ requirement: 'Build a command line tool that prints a random quote', priority: 5 });
    const t = await ended(h.mod, task_id);
    expect(t.status).toBe('failed');
    expect(t.error).toBe('Implementer (implementation) reply could not be used after 2 attempts: the reply is not JSON: "Sure! here is your code: function x() {}"');
  });
});
