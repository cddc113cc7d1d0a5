import { AppError, conflict, notFound } from '../core/errors.js';
import { redactProse } from '../core/redact.js';
import { parseInput } from '../server/validate.js';
import type { StageAgent } from './agents.js';
import type { PipelineEngine } from './engine.js';
import { outputSummary } from './engine.js';
import { withTimeout } from '../core/timeout.js';
import type { TaskQueue } from './queue.js';
import { summaryOf } from './repo.js';
import type { PipelineRepo } from './repo.js';
import { requirementBody, TASK_ID_RE } from './schemas.js';
import type { AgentView, OutputFormat, Requester, StageName, TaskStatus, TaskSummary, TaskView } from './types.js';
import { STAGES } from './types.js';

export interface SubmitResult {
  task_id: string;
  status: TaskStatus;
  priority: number;
  output_format: OutputFormat | null;
  created_at: number;
}

/**
 * What the routes and the MCP server call. Inputs are validated here (a 400 AppError names
 * the field), so every caller gets the same checks.
 */
export class PipelineApi {
  private readonly body;
  /** The last add to the queue failed or timed out (Redis unreachable). */
  private queueFailing = false;

  constructor(
    private readonly engine: PipelineEngine,
    private readonly repo: PipelineRepo,
    private readonly queue: () => TaskQueue,
    private readonly agents: Record<StageName, StageAgent>,
    maxChars: number,
    private readonly onQueueError?: (taskId: string, e: unknown) => void,
    /** After a task is queued (the backlog warning looks at the queue's depth). */
    private readonly onQueued?: () => void,
  ) {
    this.body = requirementBody(maxChars);
  }

  /** Validates `{requirement, priority, output_format?}`, stores the task, queues it. */
  async submit(input: unknown, by?: Requester): Promise<SubmitResult> {
    const b = parseInput(this.body, input ?? {}, 'body');
    // a key pasted into a requirement is stored, shown live and sent to the LLM: masked first,
    // as hook payloads and logs are
    const row = await this.engine.create({ requirement: redactProse(b.requirement), priority: b.priority, output_format: b.output_format, createdBy: by?.userId });
    await this.enqueue(row.id, row.priority);
    return { task_id: row.id, status: 'queued', priority: row.priority, output_format: row.output_format as OutputFormat | null, created_at: row.created_at };
  }

  /**
   * The task is already durable: if the queue (Redis) is unreachable it is still accepted, and
   * the re-queue sweep picks it up once the queue is back. Once an add has failed, the next ones
   * wait only briefly, so a Redis outage does not cost every submit 5 s.
   */
  private async enqueue(id: string, priority: number): Promise<void> {
    await withTimeout(this.queue().add(id, Number(priority)), this.queueFailing ? 250 : 5000, 'the task queue').then(
      () => {
        this.queueFailing = false;
        this.onQueued?.();
      },
      (e: unknown) => {
        this.queueFailing = true;
        this.onQueueError?.(id, e);
      },
    );
  }

  async getTask(id: string): Promise<TaskView | undefined> {
    if (!TASK_ID_RE.test(id)) return undefined;
    return this.engine.view(id);
  }

  async getTaskOrThrow(id: string, by?: Requester): Promise<TaskView> {
    const t = await this.getTask(id);
    if (!t) throw notFound(`No task ${id}; list tasks with GET /api/tasks`);
    mayAccess(t.id, t.created_by, by);
    return t;
  }

  /** A user who is not an admin lists only their own tasks. */
  async listTasks(q: { status?: TaskStatus | undefined; limit?: number; offset?: number } = {}, by?: Requester): Promise<{ tasks: TaskSummary[]; total: number }> {
    const createdBy = by && !by.admin ? by.userId : undefined;
    const r = await this.repo.list({ status: q.status, createdBy, limit: Math.min(Math.max(q.limit ?? 50, 1), 500), offset: Math.max(q.offset ?? 0, 0) });
    const verdicts = await this.repo.verdicts(r.tasks.map((t) => t.id));
    return { tasks: r.tasks.map((t) => summaryOf(t, verdicts.get(t.id) ?? null)), total: r.total };
  }

  async cancel(id: string, by?: Requester): Promise<TaskView> {
    const row = TASK_ID_RE.test(id) ? await this.repo.get(id) : undefined;
    if (!row) throw notFound(`No task ${id}; list tasks with GET /api/tasks`);
    mayAccess(id, row.created_by, by);
    const r = await this.engine.cancel(id);
    if (!r.changed) throw conflict(`Task ${id} has already ended (${r.status}); only queued or running tasks can be cancelled`);
    await this.queue().remove(id);
    return (await this.engine.view(id)) as TaskView;
  }

  /**
   * Reruns a failed, cancelled or validation-rejected task from the stage that failed (the
   * implementation, for a rejection), keeping the finished stages before it; 404 unknown, 409
   * any other status. Returns the task, queued again.
   */
  async retry(id: string, by?: Requester): Promise<TaskView> {
    const row = TASK_ID_RE.test(id) ? await this.repo.get(id) : undefined;
    if (!row) throw notFound(`No task ${id}; list tasks with GET /api/tasks`);
    mayAccess(id, row.created_by, by);
    const r = await this.engine.retry(id);
    if (!r.retried) throw conflict(`Task ${id} is ${r.status} and cannot be retried (${r.reason}); only a failed or cancelled task, or one whose validation failed, can be retried`);
    await this.enqueue(id, row.priority);
    return (await this.engine.view(id)) as TaskView;
  }

  /** The agent cards: one per stage, keyed by agent id. */
  async listAgents(): Promise<Record<string, AgentView>> {
    const stats = await this.repo.agentStats();
    const out: Record<string, AgentView> = {};
    for (const stage of STAGES) {
      const a = this.agents[stage];
      const s = stats.get(a.id) ?? { running: [], done: 0, failed: 0 };
      const last = s.last;
      let lastOutput: string | null = null;
      if (last?.status === 'completed' && last.output) {
        try {
          lastOutput = outputSummary(stage, JSON.parse(last.output));
        } catch {
          lastOutput = null;
        }
      }
      const status = s.running.length > 0 ? 'Working' : last?.status === 'failed' ? 'Error' : 'Ready';
      out[a.id] = {
        id: a.id,
        name: a.name,
        role: a.role,
        stage,
        model: a.model,
        source: a.source,
        status,
        current_task: s.running[0] ?? null,
        current_tasks: s.running,
        tasks_done: s.done,
        tasks_failed: s.failed,
        last_output: lastOutput,
        last_error: last?.status === 'failed' ? last.error : null,
        last_active_at: last?.finished_at ?? null,
      };
    }
    return out;
  }
}

/** 403 "Access denied" when a user who is not an admin asks for someone else's task. */
function mayAccess(taskId: string, createdBy: string | null, by: Requester | undefined): void {
  if (by && !by.admin && createdBy !== by.userId) throw new AppError(403, 'access_denied', `Access denied: task ${taskId} belongs to another user`);
}
