import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { startDaemon } from '../daemon/daemon.js';
import type { RunningDaemon } from '../daemon/daemon.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider } from '../fake-provider/server.js';
import type { HubMessage } from '../hub/hub.js';
import { demoPipelineReply } from './demo-responder.js';
import type { AgentActivityMessage, FileCreatedMessage, TaskUpdateMessage, TaskView } from './types.js';

export interface DemoOptions {
  requirement: string;
  priority?: number;
  /** CCO home of the demo (workspace, archive, database); default a fresh temp folder. */
  home?: string;
  /** Daemon port; default 0 (the OS chooses). */
  port?: number;
  /** Where lines go (default stdout). */
  print?: (line: string) => void;
  /** Leave the daemon and demo provider running (for the dashboard); the caller closes them. */
  keep?: boolean;
}

export interface DemoResult {
  task: TaskView;
  daemonUrl: string;
  accessToken: string;
  home: string;
  /** Stops the daemon and the demo provider (already done unless `keep`). */
  close(): Promise<void>;
}

export const DEMO_REQUIREMENT = 'an SVG logo for a coffee shop called Bean There';

/**
 * The offline demo: starts the built-in DEMO provider (canned replies, not a model), a daemon
 * whose gateway forwards to it, submits a requirement over HTTP and prints what the pipeline
 * does, live from the daemon's WebSocket, until the task ends.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const print = o.print ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'cco-demo-'));
  let fake: FakeProvider | undefined;
  let daemon: RunningDaemon | undefined;
  let ws: WebSocket | undefined;
  const close = async () => {
    ws?.close();
    await daemon?.close();
    await fake?.close();
  };
  try {
    fake = await startFakeProvider({ responder: (r) => demoPipelineReply(r) ?? { text: '[CCO demo provider — canned reply, not a real model]' }, recordLimit: 1000 });
    print(`🧪 DEMO provider (canned replies, not a real model) at ${fake.url}`);
    const env: Record<string, string | undefined> = {
      ...process.env,
      CCO_HOME: home,
      CCO_CONFIG_DIR: join(home, 'config'),
      CCO_RUNTIME_DIR: join(home, 'run'),
      CCO_TMPDIR: join(home, 'tmp'),
      CCO_ANTHROPIC_BASE_URL: fake.url,
      CCO_LOG_LEVEL: 'info',
    };
    // The demo is self-contained: no shared database, Redis or real provider key.
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'CCO_PORT', 'ANTHROPIC_API_KEY', 'CCO_ROUTING_CONFIG']) delete env[k];
    daemon = await startDaemon({ env, port: o.port ?? 0, portHint: 'cco demo --port {port}' });
    print(`🚀 Daemon at ${daemon.url} (home ${home})`);
    print(`   Dashboard: ${daemon.url}/?token=${encodeURIComponent(daemon.accessToken)}`);

    const current: { taskId?: string } = {};
    const early: HubMessage[] = [];
    ws = new WebSocket(`${daemon.url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(daemon.accessToken)}&types=task_update,agent_activity,file_created,log`);
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as HubMessage;
      if (!current.taskId) early.push(m);
      else printMessage(m, current.taskId, print);
    });
    await new Promise<void>((resolve, reject) => {
      ws?.once('open', () => resolve());
      ws?.once('error', reject);
    });

    print(`📝 POST /api/requirements ${JSON.stringify({ requirement: o.requirement, priority: o.priority ?? 5 })}`);
    const res = await fetch(`${daemon.url}/api/requirements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requirement: o.requirement, priority: o.priority ?? 5 }) });
    const body = (await res.json()) as { task_id?: string; error?: { message: string } };
    if (!res.ok || !body.task_id) throw new Error(`the daemon refused the requirement: ${body.error?.message ?? res.status}`);
    const taskId = body.task_id;
    current.taskId = taskId;
    for (const m of early.splice(0)) printMessage(m, taskId, print);

    const task = await waitForEnd(daemon.url, taskId);
    print('');
    print(`${task.status === 'completed' ? '✅' : '❌'} Task ${task.id} ${task.status}${task.error ? `: ${task.error}` : ''}`);
    for (const s of task.stages) print(`   ${s.stage.padEnd(15)} ${s.status.padEnd(10)} ${s.agent ?? ''} ${s.model ? `(${s.model})` : ''} calls ${s.calls}`);
    if (task.prompts.enhanced) print(`   Enhanced prompt: ${task.prompts.enhanced.split('\n').join(' ').slice(0, 160)}…`);
    if (task.workspace_path) print(`   Files in ${task.workspace_path}: ${task.files.join(', ')}`);
    if (task.archive_path) print(`   Archived to ${task.archive_path}`);
    await printAnalytics(daemon, task, print);
    const result: DemoResult = { task, daemonUrl: daemon.url, accessToken: daemon.accessToken, home, close };
    if (!o.keep) await close();
    // the files above live in the demo's own home: kept for a look, and said how to remove
    if (!o.home) print(`   The demo's home (files, database, its own keys): ${home} — remove it with rm -rf ${home}`);
    return result;
  } catch (e) {
    await close();
    // a failed demo leaves nothing to look at: its temporary home goes
    if (!o.home) rmSync(home, { recursive: true, force: true });
    throw e;
  }
}

/** The gateway's analytics rows of the task (written in small batches, so wait a moment for them). */
async function printAnalytics(daemon: RunningDaemon, task: TaskView, print: (l: string) => void): Promise<void> {
  const calls = task.stages.reduce((n, s) => n + s.calls, 0);
  const end = Date.now() + 3000;
  try {
    for (;;) {
      const r = await sql<{ n: number; tokens: number }>`select count(*) as n, coalesce(sum(input_tokens + output_tokens), 0) as tokens from gateway_requests where session_id = ${task.id}`.execute(daemon.store.db);
      const row = r.rows[0];
      if ((row && Number(row.n) >= calls) || Date.now() > end) {
        print(`   Gateway: ${Number(row?.n ?? 0)} request(s), ${Number(row?.tokens ?? 0)} tokens recorded in analytics`);
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  } catch {
    // analytics belong to the gateway; the demo does not depend on them
  }
}

async function waitForEnd(base: string, id: string): Promise<TaskView> {
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    const r = await fetch(`${base}/api/tasks/${id}`);
    const t = (await r.json()) as TaskView;
    if (['completed', 'failed', 'cancelled'].includes(t.status) && t.archived_at) return t;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`task ${id} did not finish within 120 s`);
}

function printMessage(m: HubMessage, taskId: string, print: (l: string) => void): void {
  const d = m.data as Record<string, unknown>;
  if (d.task_id !== taskId && d.last_task_id !== taskId) return;
  if (m.type === 'task_update') {
    const u = d as unknown as TaskUpdateMessage;
    print(`   [task]  ${u.event}${u.stage ? ` ${u.stage}` : ''} → ${u.status}${u.error ? ` (${u.error})` : ''}`);
  } else if (m.type === 'agent_activity') {
    const a = d as unknown as AgentActivityMessage;
    print(`   [agent] ${a.name} ${a.status} · tasks done ${a.tasks_done}`);
  } else if (m.type === 'file_created') {
    const f = d as unknown as FileCreatedMessage;
    print(`   [file]  ${f.path} (${f.bytes} bytes)`);
  } else if (m.type === 'log' && (d.level === 'warn' || d.level === 'error')) {
    print(`   [log]   ${String(d.level)}: ${String(d.msg)}`);
  }
}
