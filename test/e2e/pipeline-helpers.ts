import WebSocket from 'ws';
import type { RecordedRequest } from '../../src/fake-provider/server.js';
import type { HubMessage } from '../../src/hub/hub.js';
import { stageOfSystemPrompt } from '../../src/pipeline/prompts.js';
import type { TaskView } from '../../src/pipeline/types.js';

/** Shared bits of the pipeline end-to-end tests (not a test file itself). */

export const stageOf = (r: RecordedRequest) => stageOfSystemPrompt((r.body as { system?: unknown } | undefined)?.system);

export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function api<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Polls GET /api/tasks/:id until the task has ended and been archived. */
export function taskEnded(base: string, id: string, ms = 30_000): Promise<TaskView> {
  return waitFor(
    async () => {
      const r = await api<TaskView>('GET', `${base}/api/tasks/${id}`).catch(() => undefined);
      const t = r?.body;
      return t && ['completed', 'failed', 'cancelled'].includes(t.status) && t.archived_at ? t : undefined;
    },
    ms,
    `task ${id} to end`,
  );
}

/** A WebSocket client of the daemon's hub that records every message. */
export async function hubClient(base: string, token: string): Promise<{ messages: HubMessage[]; close(): void }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
  const messages: HubMessage[] = [];
  ws.on('message', (raw) => messages.push(JSON.parse(String(raw)) as HubMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { messages, close: () => ws.close() };
}

/** `event:stage` of the task_update messages for one task, in arrival order. */
export function taskEvents(messages: HubMessage[], taskId: string): string[] {
  return messages
    .filter((m) => m.type === 'task_update' && (m.data as { task_id: string }).task_id === taskId)
    .map((m) => {
      const d = m.data as { event: string; stage: string | null };
      return `${d.event}${d.stage ? `:${d.stage}` : ''}`;
    });
}
