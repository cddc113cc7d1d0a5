#!/usr/bin/env node
// Submit a requirement and watch the pipeline live over the daemon's WebSocket (/ws):
// task updates, agent cards (Working/Ready/Error, tasks done), files and agent logs.
//   node examples/pipeline/watch.mjs "an SVG logo for a coffee shop" [priority]
// Run from the CCO checkout (uses its `ws` dependency). The access token comes from
// $CCO_TOKEN or the daemon's token file ($CCO_RUNTIME_DIR, else $CCO_HOME/run, else ~/.cco/run).
/* global fetch */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const url = process.env.CCO_URL ?? 'http://127.0.0.1:3000';
const requirement = process.argv[2] ?? 'an SVG logo for a coffee shop called Bean There';
const priority = Number(process.argv[3] ?? 5);
const runtime = process.env.CCO_RUNTIME_DIR ?? join(process.env.CCO_HOME ?? join(homedir(), '.cco'), 'run');
const token = process.env.CCO_TOKEN ?? readFileSync(join(runtime, 'access-token'), 'utf8').trim();

const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}&types=task_update,agent_activity,file_created,log`);
await new Promise((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});

let taskId;
const early = [];
const show = (m) => {
  const d = m.data;
  if (d.task_id !== taskId && d.last_task_id !== taskId) return;
  if (m.type === 'task_update') console.log(`[task]  ${d.event}${d.stage ? ' ' + d.stage : ''} → ${d.status}${d.error ? ' — ' + d.error : ''}`);
  if (m.type === 'agent_activity') console.log(`[agent] ${d.name}: ${d.status} (tasks done ${d.tasks_done})`);
  if (m.type === 'file_created') console.log(`[file]  ${d.workspace_path} (${d.bytes} bytes)`);
  if (m.type === 'log') console.log(`[log]   ${d.level}: ${d.msg}`);
  if (m.type === 'task_update' && d.event === 'archived') {
    ws.close();
    process.exitCode = d.status === 'completed' ? 0 : 1;
  }
};
ws.on('message', (raw) => {
  const m = JSON.parse(String(raw));
  if (taskId) show(m);
  else early.push(m);
});

const res = await fetch(`${url}/api/requirements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requirement, priority }) });
const body = await res.json();
if (!res.ok) {
  console.error(`❌ ${res.status}: ${body.error?.message}`);
  process.exit(1);
}
taskId = body.task_id;
console.log(`📝 Task ${taskId} queued (priority ${priority})`);
early.splice(0).forEach(show);
