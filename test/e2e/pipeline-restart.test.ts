import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeProvider } from '../../src/fake-provider/server.js';
import { demoPipelineReply } from '../../src/pipeline/demo-responder.js';
import { CLI, cliWorld, ensureBuilt } from './harness.js';
import { api, hubClient, stageOf, taskEnded, taskEvents, waitFor } from './pipeline-helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

/** `cco run --port 0` as a child process; resolves with its URL once it listens. */
function startChild(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${out}\n${err}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}:\n${out}\n${err}`));
    });
  });
}

describe('pipeline survives a killed daemon (real CLI child process, SIGKILL)', () => {
  let fake: FakeProvider;
  const w = cliWorld();
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    let hung = false;
    fake = await startFakeProvider({
      responder: (r) => {
        // The first implementation call never answers: the daemon is killed while it waits.
        if (stageOf(r) === 'implementation' && !hung) {
          hung = true;
          return { fault: 'hang' };
        }
        return demoPipelineReply(r) ?? { text: 'not a pipeline request' };
      },
    });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await fake?.close();
    w.cleanup();
  });

  it('resumes at the implementation stage after a restart, without redoing analysis', async () => {
    const env = { ...w.env, CCO_ANTHROPIC_BASE_URL: fake.url };
    const first = await startChild(env);
    children.push(first.child);
    const created = await api<{ task_id: string }>('POST', `${first.url}/api/requirements`, { requirement: 'a bar chart of monthly rainfall', priority: 5 });
    expect(created.status).toBe(202);
    const id = created.body.task_id;
    await waitFor(() => fake.requests.some((r) => stageOf(r) === 'implementation') || undefined, 20_000, 'the implementation call');
    const before = await api<{ status: string; current_stage: string; stages: { stage: string; status: string }[] }>('GET', `${first.url}/api/tasks/${id}`);
    expect(before.body).toMatchObject({ status: 'running', current_stage: 'implementation' });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startChild(env);
    children.push(second.child);
    const token = readFileSync(join(w.env.CCO_RUNTIME_DIR as string, 'access-token'), 'utf8').trim();
    const ws = await hubClient(second.url, token);
    const task = await taskEnded(second.url, id);
    expect(task.status, task.error ?? '').toBe('completed');
    const count = (stage: string) => fake.requests.filter((r) => stageOf(r) === stage).length;
    expect(count('enhancement')).toBe(1);
    expect(count('analysis')).toBe(1);
    expect(count('implementation')).toBe(2);
    expect(count('validation')).toBe(1);
    expect(task.stages.map((s) => `${s.stage}:${s.status}:${s.attempts}`)).toEqual(['enhancement:completed:1', 'analysis:completed:1', 'implementation:completed:2', 'validation:completed:1', 'integration:completed:1']);
    expect(task.files.sort()).toEqual(['README.md', 'image.svg']);
    await waitFor(() => taskEvents(ws.messages, id).includes('archived') || undefined, 5000, 'archived on /ws');
    const events = taskEvents(ws.messages, id);
    expect(events).toEqual(['resumed:implementation', 'stage_started:implementation', 'stage_completed:implementation', 'stage_started:validation', 'stage_completed:validation', 'stage_started:integration', 'stage_completed:integration', 'completed', 'archived']);
    ws.close();
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
