import { arr, isObj, str } from './fields';
import { STAGES, readAgent, readLog, readRequest, readTask } from './model';
import type { Agent, GwRequest, HubMessage, LogLine, StageState, Task } from './model';
import { Ring } from './ring';

export type ConnState = 'connecting' | 'open' | 'disconnected' | 'unauthorized';

/** Upper bounds of what the page keeps in memory. */
export const LIMITS = { events: 10_000, logs: 5_000, requests: 5_000, files: 500, tasks: 500, agents: 300 } as const;

/**
 * Everything the page shows that arrives live, reduced from hub messages. Lists are bounded
 * rings; listeners are told at most once per animation frame however fast messages come, so a
 * burst of thousands of events costs one render.
 */
export class DashboardState {
  version = 0;
  conn: ConnState = 'connecting';
  connDetail = '';
  /** When the current disconnection began (0 when connected). */
  downSince = 0;
  readonly events = new Ring<HubMessage>(LIMITS.events);
  readonly logs = new Ring<LogLine>(LIMITS.logs);
  readonly requests = new Ring<GwRequest>(LIMITS.requests);
  readonly files = new Ring<{ ts: number; path: string; task?: string }>(LIMITS.files);
  readonly agents = new Map<string, Agent>();
  readonly tasks = new Map<string, Task>();
  readonly typeCounts = new Map<string, number>();
  totalMessages = 0;
  /** Tasks seen only through updates (no requirement text yet): the loaders fetch them. */
  readonly incomplete = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Schedules one notification for the next frame. */
  changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = (): void => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    };
    // requestAnimationFrame pauses in background tabs; a timer keeps state moving there.
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(flush);
    else setTimeout(flush, 100);
  }

  setConn(conn: ConnState, detail = ''): void {
    if (conn === this.conn && detail === this.connDetail) return;
    if (conn !== 'open' && this.conn === 'open') this.downSince = Date.now();
    if (conn === 'open') this.downSince = 0;
    this.conn = conn;
    this.connDetail = detail;
    this.changed();
  }

  /** Forget live state (the daemon restarted: its replay starts over). */
  reset(): void {
    this.events.clear();
    this.logs.clear();
    this.requests.clear();
    this.files.clear();
    this.agents.clear();
    this.tasks.clear();
    this.typeCounts.clear();
    this.totalMessages = 0;
    this.changed();
  }

  apply(m: HubMessage): void {
    this.totalMessages++;
    this.events.push(m);
    this.typeCounts.set(m.type, (this.typeCounts.get(m.type) ?? 0) + 1);
    switch (m.type) {
      case 'agent_activity':
        this.upsertAgent(m.data, m.ts);
        break;
      case 'task_update':
        this.upsertTask(m.data, m.ts);
        break;
      case 'log':
        this.logs.push(readLog(m.data, m.ts));
        break;
      case 'gateway_request':
        this.requests.push(readRequest(m.data, m.ts));
        break;
      case 'file_created': {
        const d = m.data;
        const path = isObj(d) ? String(d.path ?? d.file ?? d.filename ?? '') : String(d);
        const task = isObj(d) && d.task_id !== undefined ? String(d.task_id) : undefined;
        this.files.push({ ts: m.ts, path, ...(task ? { task } : {}) });
        if (task) this.tasks.get(task)?.files.push(path);
        break;
      }
    }
    this.changed();
  }

  upsertAgent(d: unknown, ts: number): void {
    const a = readAgent(d, ts);
    if (!a) return;
    const prev = this.agents.get(a.key);
    const next: Agent = {
      ...prev,
      ...a,
      completed: a.completed ?? prev?.completed ?? 0,
      failed: a.failed ?? prev?.failed ?? 0,
      // a snapshot read later may know only an older time (or none) than a live message did
      lastSeen: Math.max(prev?.lastSeen ?? 0, a.lastSeen),
    };
    // Parts that do not send counts still get them: a Working → Ready/Error edge is one task.
    if (a.kind === 'pipeline' && prev?.status === 'Working') {
      if (a.status === 'Ready' && a.completed === undefined) next.completed = prev.completed + 1;
      if (a.status === 'Error' && a.failed === undefined) next.failed = prev.failed + 1;
    }
    // A sidecar agent's result_stored message carries no count: each one is a result (a failed one when its status says so).
    if (a.kind === 'sidecar' && isObj(d) && d.action === 'result_stored' && a.completed === undefined) {
      if (a.status === 'Error') next.failed = (prev?.failed ?? 0) + 1;
      else next.completed = (prev?.completed ?? 0) + 1;
    }
    // The message says what the agent works on now: no task named means none.
    if (a.task === undefined && (a.kind !== 'pipeline' || a.status !== 'Working')) delete next.task;
    this.agents.delete(a.key);
    this.agents.set(a.key, next);
    if (this.agents.size > LIMITS.agents) {
      const oldest = this.agents.keys().next().value;
      if (oldest !== undefined) this.agents.delete(oldest);
    }
  }

  upsertTask(d: unknown, ts: number): void {
    const t = readTask(d, ts);
    if (!t) return;
    const prev = this.tasks.get(t.id);
    // A retried task starts over from a stage: queued with none, its old error, verdict and files gone.
    const retried = str(d, 'event') === 'retried';
    const next: Task = {
      status: 'queued',
      created: ts,
      stages: {},
      ...prev,
      ...t,
      files: [...(retried ? [] : (prev?.files ?? [])), ...(t.files ?? [])].slice(-50),
      updated: t.updated ?? ts,
    } as Task;
    // null says none: a row of a task retried meanwhile (`error: null`) clears what the page kept
    if (retried || (isObj(d) && d.error === null)) delete next.error;
    if (retried || (isObj(d) && d.validation === null)) delete next.validation;
    if (retried) delete next.stage;
    next.stages = stageStates(next, retried ? stagesBefore(retryFrom(d), prev?.stages ?? {}) : (prev?.stages ?? {}));
    if (next.requirement === undefined) this.incomplete.add(t.id);
    else this.incomplete.delete(t.id);
    this.tasks.delete(t.id);
    this.tasks.set(t.id, next);
    if (this.tasks.size > LIMITS.tasks) {
      const oldest = this.tasks.keys().next().value;
      if (oldest !== undefined) this.tasks.delete(oldest);
    }
  }
}

const DONE = new Set(['completed', 'complete', 'done', 'succeeded', 'success', 'finished', 'archived']);
const FAILED = new Set(['failed', 'error', 'cancelled', 'canceled']);

/** Where each stage stands, from the task's current stage and status. */
export function stageStates(t: Task, prev: Record<string, StageState>): Record<string, StageState> {
  const status = t.status.toLowerCase();
  const out: Record<string, StageState> = {};
  const idx = t.stage ? (STAGES as readonly string[]).indexOf(t.stage.toLowerCase()) : -1;
  STAGES.forEach((s, i) => {
    if (DONE.has(status)) out[s] = 'done';
    else if (idx >= 0 && i < idx) out[s] = 'done';
    else if (idx === i) out[s] = FAILED.has(status) ? 'failed' : DONE.has(status) ? 'done' : 'running';
    else out[s] = prev[s] === 'done' ? 'done' : 'pending';
  });
  return out;
}

/** The stage a retried task runs again from: its `retried` update names it; in a task view it is the first pending stage. */
function retryFrom(d: unknown): string | undefined {
  const named = str(d, 'detail.from');
  if (named) return named;
  return (arr(d, 'stages') ?? []).filter((s) => str(s, 'status') === 'pending').map((s) => str(s, 'stage'))[0];
}

/** The stages finished before `from` (kept by a retry); none when `from` is unknown. */
function stagesBefore(from: string | undefined, prev: Record<string, StageState>): Record<string, StageState> {
  const idx = from ? (STAGES as readonly string[]).indexOf(from) : -1;
  const out: Record<string, StageState> = {};
  STAGES.forEach((s, i) => {
    if (i < idx && prev[s] === 'done') out[s] = 'done';
  });
  return out;
}

/** A task `POST /api/tasks/:id/retry` accepts: failed, cancelled, or completed with its validation failed. */
export function canRetry(t: Task | undefined): boolean {
  if (!t) return false;
  const status = t.status.toLowerCase();
  return status === 'failed' || status === 'cancelled' || (status === 'completed' && t.validation?.passed === false);
}

/** What a card says of a task that completed although its validator rejected it (`fail_on_validation_reject = false`). */
export function validationNote(t: Task): string | undefined {
  if (t.error || t.validation?.passed !== false || t.status.toLowerCase() !== 'completed') return undefined;
  const summary = t.validation.summary.trim();
  return `Validation failed (score ${t.validation.score})${summary ? `: ${summary}` : ''}`;
}

/** The column a task sits in on the pipeline board. */
export function taskColumn(t: Task): string {
  const status = t.status.toLowerCase();
  if (DONE.has(status)) return 'completed';
  if (FAILED.has(status)) return 'failed';
  const stage = t.stage?.toLowerCase();
  if (stage && (STAGES as readonly string[]).includes(stage)) return stage;
  return 'queued';
}

export const state = new DashboardState();
