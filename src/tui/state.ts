/**
 * What `cco tui` shows, reduced from the daemon's hub messages: agents, tasks, gateway
 * requests and log lines, all bounded. Plain TypeScript (no ink) so it is tested alone.
 */
export interface TuiMessage {
  seq: number;
  type: string;
  ts: number;
  data: unknown;
}

export interface TuiAgent {
  key: string;
  name: string;
  kind: 'pipeline' | 'session' | 'sidecar';
  status: string;
  task?: string;
  done: number;
  lastSeen: number;
}

export interface TuiTask {
  id: string;
  status: string;
  stage?: string;
  requirement?: string;
  /** When the task was submitted (its `created_at`, else when it was first seen). */
  created: number;
  /** Its last change (`updated_at`, or the hub message's time). */
  updated: number;
}

export interface TuiRequest {
  ts: number;
  model: string;
  status: string;
  latencyMs?: number;
  cost: number;
  cacheHit: boolean;
}

export interface TuiLog {
  ts: number;
  level: string;
  msg: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * Text without control characters (C0, DEL, C1), each shown as a space. Strings from the daemon
 * carry what anyone submitted (a requirement, a hook's tool name, a log line quoting them): an
 * escape sequence reaching the terminal could set its title, clear it, or write the clipboard
 * (OSC 52) for a later paste to run.
 */
// eslint-disable-next-line no-control-regex -- finding them is the point
export const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

const s = (o: Obj, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v) return printable(v);
    if (typeof v === 'number') return String(v);
  }
  return undefined;
};
const n = (o: Obj, ...keys: string[]): number | undefined => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
};

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

export class TuiState {
  readonly agents = new Map<string, TuiAgent>();
  readonly tasks = new Map<string, TuiTask>();
  readonly requests: TuiRequest[] = [];
  readonly logs: TuiLog[] = [];
  messages = 0;
  lastSeq = 0;

  constructor(private readonly limits = { requests: 5000, logs: 500, tasks: 200, agents: 200 }) {}

  apply(m: TuiMessage): void {
    this.messages++;
    if (m.seq > this.lastSeq) this.lastSeq = m.seq;
    const d = isObj(m.data) ? m.data : {};
    switch (m.type) {
      case 'agent_activity':
        this.agent(d, m.ts);
        break;
      case 'task_update':
        this.task(d, m.ts);
        break;
      case 'gateway_request': {
        const latency = n(d, 'latencyMs', 'latency_ms');
        push(
          this.requests,
          { ts: m.ts, model: s(d, 'model') ?? '?', status: s(d, 'status') ?? '?', ...(latency !== undefined ? { latencyMs: latency } : {}), cost: n(d, 'costUsd', 'cost_usd', 'cost') ?? 0, cacheHit: d.cacheHit === true || d.cache_hit === true },
          this.limits.requests,
        );
        break;
      }
      case 'log':
        push(this.logs, { ts: n(d, 'time') ?? m.ts, level: s(d, 'level') ?? 'info', msg: s(d, 'msg', 'message') ?? JSON.stringify(d) }, this.limits.logs);
        break;
    }
  }

  /** Agents from `agent_activity` or `GET /api/agents` / `/api/sessions` entries. */
  agent(d: Obj, ts: number): void {
    const session = s(d, 'session_id');
    const key = session ? (s(d, 'agent_id') ? `${session}/${s(d, 'agent_id')}` : session) : s(d, 'agent', 'agent_id', 'id');
    if (!key) return;
    const prev = this.agents.get(key);
    const kind: TuiAgent['kind'] = session ? 'session' : d.stage !== undefined || d.agent !== undefined ? 'pipeline' : 'sidecar';
    const task = s(d, 'task_id', 'current_task', 'current_tool');
    const status = s(d, 'status') ?? prev?.status ?? 'Ready';
    const next: TuiAgent = {
      key,
      name: s(d, 'name', 'agent_type') ?? prev?.name ?? (session ? 'Claude Code' : key),
      kind,
      status: /^(working|running|busy)$/i.test(status) ? 'Working' : /^(error|failed)$/i.test(status) ? 'Error' : /^ended$/i.test(status) ? 'Ended' : 'Ready',
      ...(task ? { task } : {}),
      // A sidecar agent's result_stored message has no count: each is one result.
      done: n(d, 'tasks_done', 'tools_run', 'completed') ?? (prev?.done ?? 0) + (d.action === 'result_stored' ? 1 : 0),
      lastSeen: ts,
    };
    this.agents.delete(key);
    this.agents.set(key, next);
    if (this.agents.size > this.limits.agents) this.agents.delete(this.agents.keys().next().value as string);
  }

  /** Tasks from `task_update` or `GET /api/tasks` (which lists them newest first). */
  task(d: Obj, ts: number): void {
    const id = s(d, 'task_id', 'id');
    if (!id) return;
    const prev = this.tasks.get(id);
    const stage = s(d, 'stage', 'current_stage') ?? prev?.stage;
    const requirement = s(d, 'requirement') ?? prev?.requirement;
    const created = n(d, 'created_at') ?? prev?.created ?? ts;
    // A poll's updated_at may be older than a hub message already applied.
    const updated = Math.max(n(d, 'updated_at') ?? ts, prev?.updated ?? 0);
    this.tasks.set(id, { id, status: s(d, 'status') ?? prev?.status ?? 'queued', ...(stage ? { stage } : {}), ...(requirement ? { requirement } : {}), created, updated });
    if (this.tasks.size > this.limits.tasks) {
      const stalest = [...this.tasks.values()].reduce((a, b) => (b.updated < a.updated ? b : a));
      this.tasks.delete(stalest.id);
    }
  }

  /**
   * The `limit` most recent tasks, newest first: by submission, then by last change. Not the
   * Map's order: a poll upserts its newest-first list in order, which left the oldest last.
   */
  recentTasks(limit: number): TuiTask[] {
    return [...this.tasks.values()].sort((a, b) => b.created - a.created || b.updated - a.updated).slice(0, limit);
  }

  /** Requests per second over the last `windowMs`. */
  rps(now: number, windowMs = 10_000): number {
    let c = 0;
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const r = this.requests[i];
      if (!r || r.ts < now - windowMs) break;
      c++;
    }
    return c / (windowMs / 1000);
  }

  /** Cost of the requests seen since local midnight. */
  costToday(now: number): number {
    const midnight = new Date(now).setHours(0, 0, 0, 0);
    return this.requests.reduce((sum, r) => (r.ts >= midnight ? sum + r.cost : sum), 0);
  }

  /** Forget everything (the daemon restarted). */
  reset(): void {
    this.agents.clear();
    this.tasks.clear();
    this.requests.length = 0;
    this.logs.length = 0;
    this.lastSeq = 0;
  }
}
