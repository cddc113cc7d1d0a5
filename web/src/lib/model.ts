import { bool, num, str } from './fields';

/** One frame of the daemon's hub (`/ws`). */
export interface HubMessage {
  seq: number;
  type: string;
  ts: number;
  data: unknown;
}

export type AgentStatus = 'Ready' | 'Working' | 'Error' | 'Ended';

/** A card on the agents view: a pipeline agent, a Claude Code session or one of its subagents. */
export interface Agent {
  key: string;
  name: string;
  kind: 'pipeline' | 'sidecar' | 'session' | 'subagent';
  status: AgentStatus;
  /** What it works on now (a task id, a tool name). */
  task?: string;
  detail?: string;
  completed: number;
  failed: number;
  lastSeen: number;
  sessionId?: string;
}

export const STAGES = ['enhancement', 'analysis', 'implementation', 'validation', 'integration'] as const;
export type StageState = 'pending' | 'running' | 'done' | 'failed';

/** The pipeline validator's verdict on a task (`validation` on its rows and `completed`/`failed` updates). */
export interface Validation {
  passed: boolean;
  score: number;
  summary: string;
}

export interface Task {
  id: string;
  requirement?: string;
  status: string;
  stage?: string;
  priority?: number;
  created: number;
  updated: number;
  error?: string;
  validation?: Validation;
  stages: Record<string, StageState>;
  files: string[];
}

export interface GwRequest {
  ts: number;
  id?: string;
  model: string;
  provider?: string;
  status?: string;
  latencyMs?: number;
  ttftMs?: number;
  inTok?: number;
  outTok?: number;
  cost?: number;
  cacheHit?: boolean;
  /** The cache could have answered it (false: count_tokens, a bypass, a route with cache off). */
  cacheable?: boolean;
  agent?: string;
  raw: unknown;
}

export interface LogLine {
  ts: number;
  level: string;
  msg: string;
  source?: string;
  raw: unknown;
}

const WORKING = new Set(['working', 'busy', 'running', 'started', 'start', 'active', 'processing', 'in_progress', 'thinking']);
const ERROR = new Set(['error', 'failed', 'failure', 'crashed']);
const ENDED = new Set(['ended', 'stopped', 'offline']);

export function agentStatus(s: string | undefined): AgentStatus {
  const v = (s ?? '').toLowerCase();
  if (WORKING.has(v)) return 'Working';
  if (ERROR.has(v)) return 'Error';
  if (ENDED.has(v)) return 'Ended';
  return 'Ready';
}

/** Reads an `agent_activity` message (pipeline agents and Claude Code sessions from hooks). */
export function readAgent(d: unknown, ts: number): Omit<Agent, 'completed' | 'failed'> & { completed?: number; failed?: number } | undefined {
  const sessionId = str(d, 'session_id', 'sessionId');
  if (sessionId && (num(d, 'tools_run') !== undefined || str(d, 'last_event') !== undefined)) {
    const agentId = str(d, 'agent_id');
    const completed = num(d, 'tools_run');
    return {
      key: agentId ? `${sessionId}/${agentId}` : sessionId,
      name: str(d, 'agent_type') ?? (agentId ? 'subagent' : 'Claude Code'),
      kind: agentId ? 'subagent' : 'session',
      status: agentStatus(str(d, 'status')),
      ...optional('task', str(d, 'current_tool')),
      ...optional('detail', str(d, 'last_event')),
      ...(completed !== undefined ? { completed } : {}),
      lastSeen: num(d, 'last_seen') ?? ts,
      sessionId,
    };
  }
  const key = str(d, 'agent', 'agent_id', 'agentId', 'id', 'agent_name', 'name', 'agent_type', 'role', 'stage');
  if (!key) return undefined;
  const completed = num(d, 'tasks_done', 'tasks_completed', 'completed', 'completed_tasks', 'task_count', 'tasks');
  const failed = num(d, 'tasks_failed', 'failed', 'failed_tasks', 'errors');
  // Pipeline stage agents name their stage; sidecar agents (spawned, storing results) do not.
  const pipeline = str(d, 'stage') !== undefined || str(d, 'agent') !== undefined;
  return {
    key,
    name: str(d, 'agent_name', 'name', 'agent_type', 'agent', 'role') ?? key,
    kind: pipeline ? 'pipeline' : 'sidecar',
    status: agentStatus(str(d, 'status', 'state', 'activity')),
    ...optional('task', str(d, 'task_id', 'taskId', 'task.id', 'current_task')),
    ...optional('detail', str(d, 'message', 'last_output', 'action', 'activity', 'stage', 'detail')),
    ...(completed !== undefined ? { completed } : {}),
    ...(failed !== undefined ? { failed } : {}),
    lastSeen: ts,
  };
}

/** Reads a `task_update` (or a task from `GET /api/tasks`). */
export function readTask(d: unknown, ts: number): Partial<Task> & { id: string } | undefined {
  const id = str(d, 'task_id', 'taskId', 'id', 'task.id');
  if (!id) return undefined;
  const created = num(d, 'created_at', 'createdAt', 'created');
  const updated = num(d, 'updated_at', 'updatedAt', 'ts');
  const priority = num(d, 'priority');
  const file = str(d, 'file', 'path');
  const validation = readValidation(d);
  return {
    id,
    ...optional('requirement', str(d, 'requirement', 'title', 'description', 'task.requirement')),
    ...optional('status', str(d, 'status', 'state', 'task.status')),
    ...optional('stage', str(d, 'stage', 'current_stage', 'currentStage', 'task.stage')),
    ...optional('error', str(d, 'error', 'error.message', 'reason', 'failure_reason')),
    ...(validation ? { validation } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(created !== undefined ? { created: toMs(created) } : {}),
    updated: updated !== undefined ? toMs(updated) : ts,
    ...(file ? { files: [file] } : {}),
  };
}

/** The verdict a task carries; undefined when it has none (null before validation answers) or it is malformed. */
function readValidation(d: unknown): Validation | undefined {
  const passed = bool(d, 'validation.passed');
  if (passed === undefined) return undefined;
  return { passed, score: num(d, 'validation.score') ?? 0, summary: str(d, 'validation.summary') ?? '' };
}

/** Reads a `gateway_request` (or a row of `GET /api/debug/requests`). */
export function readRequest(d: unknown, ts: number): GwRequest {
  const cacheHit = bool(d, 'cache_hit', 'cacheHit', 'cached', 'cache.hit') ?? (str(d, 'cache', 'cache_status') ? /hit/i.test(str(d, 'cache', 'cache_status') ?? '') : undefined);
  const t = num(d, 'ts', 'timestamp', 'created_at', 'started_at', 'time');
  const r: GwRequest = {
    ts: t !== undefined ? toMs(t) : ts,
    model: str(d, 'model', 'request_model', 'requested_model') ?? '?',
    raw: d,
  };
  const set = <K extends keyof GwRequest>(k: K, v: GwRequest[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  set('id', str(d, 'id', 'request_id', 'requestId'));
  set('provider', str(d, 'provider'));
  set('status', str(d, 'status', 'status_code', 'statusCode', 'outcome'));
  set('latencyMs', num(d, 'latency_ms', 'latencyMs', 'duration_ms', 'durationMs', 'latency'));
  set('ttftMs', num(d, 'ttft_ms', 'ttftMs', 'time_to_first_token_ms'));
  set('inTok', num(d, 'tokens.input', 'input_tokens', 'tokens_in', 'prompt_tokens', 'inputTokens', 'usage.input_tokens', 'usage.prompt_tokens'));
  set('outTok', num(d, 'tokens.output', 'output_tokens', 'tokens_out', 'completion_tokens', 'outputTokens', 'usage.output_tokens', 'usage.completion_tokens'));
  set('cost', num(d, 'cost_usd', 'cost', 'costUsd', 'total_cost'));
  set('cacheHit', cacheHit);
  set('cacheable', bool(d, 'cacheable'));
  set('agent', str(d, 'agent', 'agent_id', 'agentId', 'agent_type'));
  return r;
}

/** Reads a `log` message (daemon log records and agents' console lines). */
export function readLog(d: unknown, ts: number): LogLine {
  const t = num(d, 'time', 'ts', 'timestamp');
  const levelNum = num(d, 'level');
  const level = str(d, 'level') && levelNum === undefined ? (str(d, 'level') as string) : levelNum !== undefined ? levelFromNumber(levelNum) : 'info';
  const msg = str(d, 'msg', 'message', 'line', 'text') ?? JSON.stringify(d);
  return { ts: t !== undefined ? toMs(t) : ts, level: level.toLowerCase(), msg, ...optional('source', str(d, 'agent', 'agent_type', 'module', 'source', 'name')), raw: d };
}

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export function levelRank(l: string): number {
  const i = (LEVELS as readonly string[]).indexOf(l === 'warning' ? 'warn' : l);
  return i < 0 ? 2 : i;
}
function levelFromNumber(n: number): string {
  return LEVELS[Math.max(0, Math.min(5, Math.round(n / 10) - 1))] ?? 'info';
}

/** Seconds since the epoch become milliseconds; ISO strings are not numbers and stay out. */
function toMs(n: number): number {
  return n < 1e11 ? n * 1000 : n;
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}
