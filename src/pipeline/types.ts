/** Shared types of the pipeline: stages, statuses and the live messages it publishes. */

export const STAGES = ['enhancement', 'analysis', 'implementation', 'validation', 'integration'] as const;
export type StageName = (typeof STAGES)[number];

export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
export type OutputFormat = 'code' | 'html' | 'svg' | 'markdown';
export const OUTPUT_FORMATS = ['code', 'html', 'svg', 'markdown'] as const;

export const TERMINAL: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminal = (s: string): boolean => (TERMINAL as readonly string[]).includes(s);

/** The agent (one per stage) as shown on the dashboard's agent cards. */
export type AgentStatus = 'Ready' | 'Working' | 'Error';

export interface StageView {
  stage: StageName;
  status: StageStatus;
  agent: string | null;
  model: string | null;
  output: unknown;
  raw_reply: string | null;
  error: string | null;
  attempts: number;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface TaskSummary {
  id: string;
  requirement: string;
  priority: number;
  status: TaskStatus;
  current_stage: StageName | null;
  output_format: OutputFormat | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  archived_at: number | null;
  /** The user who submitted it; null for local and API-key clients. */
  created_by: string | null;
  /** The validator's verdict, once the validation stage has answered (null before, or when it could not). */
  validation: ValidationVerdict | null;
  /** Times the task was retried (`POST /api/tasks/:id/retry`). */
  retries: number;
}

/** What the validation stage decided, in short (its whole answer is the stage's `output`). */
export interface ValidationVerdict {
  passed: boolean;
  score: number;
  summary: string;
}

/**
 * Who asks, when it is a logged-in person: a task records its submitter, and a user who is not an
 * admin sees and cancels only their own tasks (seed 004's ownership check). Local clients, the
 * access token and API keys pass no requester and see everything.
 */
export interface Requester {
  userId: string;
  admin: boolean;
}

export interface TaskView extends TaskSummary {
  prompts: { original: string; enhanced: string | null };
  stages: StageView[];
  files: string[];
  workspace_path: string | null;
  archive_path: string | null;
  /**
   * Present while the running stage waits for a busy gateway (provider circuit breaker open,
   * rate limit) before calling again: which stage, until when (ms since the epoch), and why.
   * Known to the instance running the task.
   */
  waiting?: TaskWaiting;
}

export interface TaskWaiting {
  stage: StageName;
  until: number;
  reason: string;
}

export interface AgentView {
  id: string;
  name: string;
  role: string;
  stage: StageName;
  model: string;
  /** `catalog` when a catalog agent supplies the role prompt, else `built-in`. */
  source: 'catalog' | 'built-in';
  status: AgentStatus;
  current_task: string | null;
  current_tasks: string[];
  tasks_done: number;
  tasks_failed: number;
  last_output: string | null;
  last_error: string | null;
  last_active_at: number | null;
}

/** `task_update` hub message. */
export interface TaskUpdateMessage {
  event:
    | 'created'
    | 'started'
    | 'resumed'
    | 'stage_started'
    | 'stage_waiting'
    | 'stage_completed'
    | 'stage_failed'
    | 'stage_skipped'
    | 'completed'
    | 'failed'
    | 'cancelled'
    | 'retried'
    | 'archived';
  task_id: string;
  status: TaskStatus;
  stage: StageName | null;
  priority: number;
  error?: string;
  /** On `completed` and `failed`: the validator's verdict (null when validation did not answer). */
  validation?: ValidationVerdict | null;
  detail?: Record<string, unknown>;
}

/** `agent_activity` hub message. */
export interface AgentActivityMessage {
  agent: string;
  name: string;
  stage: StageName;
  status: AgentStatus;
  /** The task the agent is working on (null when Ready or Error). */
  task_id: string | null;
  /** The task this message is about (the one just finished, failed or stopped). */
  last_task_id: string | null;
  tasks_done: number;
  message: string;
  last_output?: string;
}

/** `file_created` hub message. */
export interface FileCreatedMessage {
  task_id: string;
  path: string;
  bytes: number;
  workspace_path: string;
}
