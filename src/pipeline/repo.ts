import { randomBytes } from 'node:crypto';
import type { ExpressionBuilder, Selectable, Updateable } from 'kysely';
import type { Store } from '../store/store.js';
import type { Database } from '../store/tables/index.js';
import type { PipelineStagesTable, PipelineTasksTable } from '../store/tables/pipeline.js';
import type { StageOutputs } from './schemas.js';
import { STAGES } from './types.js';
import type { OutputFormat, StageName, StageStatus, StageView, TaskStatus, TaskSummary, ValidationVerdict } from './types.js';

export type TaskRow = Selectable<PipelineTasksTable>;
export type StageRow = Selectable<PipelineStagesTable>;

export function newTaskId(now = Date.now()): string {
  return `t_${now.toString(36)}${randomBytes(5).toString('hex')}`;
}

/** Durable task and stage state (SQLite or PostgreSQL). */
export class PipelineRepo {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  /** Inserts the task and all its stage rows in one transaction (durable before the client hears of it). */
  async create(t: { id: string; requirement: string; priority: number; format: OutputFormat | null; enhance: boolean; options: Record<string, unknown>; agents: Record<StageName, { id: string; model: string }>; createdBy?: string | null | undefined }): Promise<TaskRow> {
    const now = Date.now();
    const row: TaskRow = {
      id: t.id,
      requirement: t.requirement,
      enhanced_requirement: null,
      priority: t.priority,
      status: 'queued',
      current_stage: null,
      output_format: t.format,
      error: null,
      options: JSON.stringify(t.options),
      created_at: now,
      updated_at: now,
      started_at: null,
      finished_at: null,
      archived_at: null,
      workspace_path: null,
      archive_path: null,
      owner: null,
      created_by: t.createdBy ?? null,
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('pipeline_tasks').values(row).execute();
      await trx
        .insertInto('pipeline_stages')
        .values(
          STAGES.map((stage, position) => ({
            task_id: t.id,
            stage,
            position,
            status: stage === 'enhancement' && !t.enhance ? 'skipped' : 'pending',
            agent: t.agents[stage].id,
            model: t.agents[stage].model,
            output: null,
            raw_reply: null,
            error: null,
            attempts: 0,
            calls: 0,
            input_tokens: 0,
            output_tokens: 0,
            started_at: null,
            finished_at: null,
          })),
        )
        .execute();
    });
    return row;
  }

  async get(id: string): Promise<TaskRow | undefined> {
    return this.db.selectFrom('pipeline_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async stages(id: string): Promise<StageRow[]> {
    return this.db.selectFrom('pipeline_stages').selectAll().where('task_id', '=', id).orderBy('position', 'asc').execute();
  }

  async list(f: { status?: TaskStatus | undefined; createdBy?: string | undefined; limit: number; offset: number }): Promise<{ tasks: TaskRow[]; total: number }> {
    let q = this.db.selectFrom('pipeline_tasks');
    if (f.status) q = q.where('status', '=', f.status);
    if (f.createdBy !== undefined) q = q.where('created_by', '=', f.createdBy);
    const [tasks, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ]);
    return { tasks, total: Number(count?.n ?? 0) };
  }

  /** The validator's verdict of each of these tasks that has one (list rows show it). */
  async verdicts(ids: readonly string[]): Promise<Map<string, ValidationVerdict>> {
    const out = new Map<string, ValidationVerdict>();
    if (ids.length === 0) return out;
    const rows = await this.db.selectFrom('pipeline_stages').select(['task_id', 'output']).where('stage', '=', 'validation').where('task_id', 'in', [...ids]).where('output', 'is not', null).execute();
    for (const r of rows) {
      const v = verdictOf(parseJson(r.output));
      if (v) out.set(r.task_id, v);
    }
    return out;
  }

  /**
   * Puts an ended task (still `from`) back in the queue for a retry: its stages from `position`
   * on (except skipped ones) are pending again and lose their output; earlier ones are kept. The
   * task's archive and folder are no longer named (the rerun archives and writes them again).
   * False when the task is no longer `from` (another retry, a concurrent change).
   */
  async resetForRetry(id: string, from: TaskStatus, position: number, options: Record<string, unknown>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('pipeline_tasks')
        .set({ status: 'queued', error: null, current_stage: null, owner: null, started_at: null, finished_at: null, archived_at: null, archive_path: null, workspace_path: null, options: JSON.stringify(options), updated_at: Date.now() })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await trx
        .updateTable('pipeline_stages')
        .set({ status: 'pending', output: null, raw_reply: null, error: null, calls: 0, input_tokens: 0, output_tokens: 0, started_at: null, finished_at: null })
        .where('task_id', '=', id)
        .where('position', '>=', position)
        .where('status', '!=', 'skipped')
        .execute();
      return true;
    });
  }

  /** Tasks not finished yet, in the order they should run: priority (high first), then age. */
  async unfinished(): Promise<TaskRow[]> {
    return this.db.selectFrom('pipeline_tasks').selectAll().where('status', 'in', ['queued', 'running']).orderBy('priority', 'desc').orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
  }

  /** Changes the status only if the task is still in one of `from` (cancel vs finish races). */
  async transition(id: string, from: TaskStatus[], patch: Updateable<PipelineTasksTable> & { status: TaskStatus }, closeOpenAs?: StageStatus): Promise<boolean> {
    // with its open stages closed in the same transaction: a kill between the two left stage rows
    // "running" under an ended task (its agent's card Working on it for ever)
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('pipeline_tasks').set({ ...patch, updated_at: Date.now() }).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (closeOpenAs) await trx.updateTable('pipeline_stages').set({ status: closeOpenAs, finished_at: Date.now() }).where('task_id', '=', id).where('status', 'in', ['pending', 'running']).execute();
      return true;
    });
  }

  /**
   * Takes the task for `owner` (lease.ts): a queued task, or a running one whose lease is free:
   * released, already ours, not renewed since `now - ttlMs`, or held by `goneOwner` (a process
   * known to have ended). One UPDATE, so of two instances racing for it one wins.
   */
  async claim(id: string, owner: string, o: { startedAt: number; now: number; ttlMs: number; goneOwner?: string | undefined }): Promise<boolean> {
    const r = await this.db
      .updateTable('pipeline_tasks')
      .set({ status: 'running', owner, started_at: o.startedAt, updated_at: o.now })
      .where('id', '=', id)
      .where((eb) => {
        const free = [eb('owner', 'is', null), eb('owner', '=', owner), eb('updated_at', '<', o.now - o.ttlMs)];
        if (o.goneOwner) free.push(eb('owner', '=', o.goneOwner));
        return eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb.or(free)])]);
      })
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Renews the owner's lease (the heartbeat); false when the task no longer runs under `owner`. */
  async renew(id: string, owner: string): Promise<boolean> {
    const r = await this.db.updateTable('pipeline_tasks').set({ updated_at: Date.now() }).where('id', '=', id).where('owner', '=', owner).where('status', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Gives the lease up (a graceful stop): the next instance to start the task need not wait it out. */
  async release(id: string, owner: string): Promise<void> {
    await this.db.updateTable('pipeline_tasks').set({ owner: null }).where('id', '=', id).where('owner', '=', owner).where('status', '=', 'running').execute();
  }

  /** A write of the owner's run: applied only while the task runs under `owner` (false otherwise). */
  async updateOwned(id: string, owner: string, patch: Updateable<PipelineTasksTable>): Promise<boolean> {
    const r = await this.db.updateTable('pipeline_tasks').set({ ...patch, updated_at: Date.now() }).where('id', '=', id).where('owner', '=', owner).where('status', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Ends the owner's run (completed, failed) if the task still runs under `owner`, closing its
   * unfinished stages as `closeOpenAs` in the same transaction.
   */
  async endOwned(id: string, owner: string, patch: Updateable<PipelineTasksTable> & { status: TaskStatus }, closeOpenAs?: StageStatus): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('pipeline_tasks').set({ ...patch, updated_at: Date.now() }).where('id', '=', id).where('owner', '=', owner).where('status', '=', 'running').executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (closeOpenAs) await trx.updateTable('pipeline_stages').set({ status: closeOpenAs, finished_at: Date.now() }).where('task_id', '=', id).where('status', 'in', ['pending', 'running']).execute();
      return true;
    });
  }

  /** A stage write of the owner's run: applied only while its task runs under `owner` (false otherwise). */
  async updateStageOwned(taskId: string, stage: StageName, owner: string, patch: Updateable<PipelineStagesTable>): Promise<boolean> {
    const r = await this.db
      .updateTable('pipeline_stages')
      .set(patch)
      .where('task_id', '=', taskId)
      .where('stage', '=', stage)
      .where((eb) => eb.exists(ownedRunning(eb, taskId, owner)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Marks the stage running (one more attempt) for the owner's run; its attempt number, or undefined when the task is not ours. */
  async startStageOwned(taskId: string, stage: StageName, owner: string, agent: string, model: string): Promise<number | undefined> {
    const r = await this.db
      .updateTable('pipeline_stages')
      .set((eb) => ({ status: 'running', agent, model, error: null, started_at: Date.now(), finished_at: null, attempts: eb('attempts', '+', 1) }))
      .where('task_id', '=', taskId)
      .where('stage', '=', stage)
      .where((eb) => eb.exists(ownedRunning(eb, taskId, owner)))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return undefined;
    const row = await this.db.selectFrom('pipeline_stages').select('attempts').where('task_id', '=', taskId).where('stage', '=', stage).executeTakeFirst();
    return Number(row?.attempts ?? 1);
  }

  /** Ended tasks with no archive recorded (a crash or a disk error between the end and the archive), oldest first. */
  async unarchived(limit: number): Promise<TaskRow[]> {
    return this.db.selectFrom('pipeline_tasks').selectAll().where('status', 'in', ['completed', 'failed', 'cancelled']).where('archived_at', 'is', null).orderBy('finished_at', 'asc').orderBy('id', 'asc').limit(limit).execute();
  }

  /** Records the archive unless one is recorded already (false then: another instance did it). */
  async markArchived(id: string, at: number, path: string): Promise<boolean> {
    const r = await this.db.updateTable('pipeline_tasks').set({ archived_at: at, archive_path: path, updated_at: Date.now() }).where('id', '=', id).where('archived_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Retention deleted these archives (`archive_path`) or task folders (`workspace_path`): their
   * tasks no longer name them (null). `archived_at` stays, so `unarchived` does not archive them
   * again. Only a row still naming that very folder changes (an instance with other folders may
   * have written it).
   */
  async foldersDeleted(column: 'archive_path' | 'workspace_path', folders: readonly { id: string; path: string }[]): Promise<number> {
    let n = 0;
    // in slices: a lowered `archive_max_tasks` can delete thousands at once (bound parameters are limited)
    for (let i = 0; i < folders.length; i += 400) {
      const slice = folders.slice(i, i + 400);
      // two lists, not an OR per pair (SQLite's expression depth): a path names its own task's folder
      const r = await this.db
        .updateTable('pipeline_tasks')
        .set({ [column]: null, updated_at: Date.now() })
        .where('id', 'in', slice.map((a) => a.id))
        .where(column, 'in', slice.map((a) => a.path))
        .executeTakeFirst();
      n += Number(r.numUpdatedRows);
    }
    return n;
  }

  /** Per agent: running stages, finished counts and the latest finished stage. */
  async agentStats(): Promise<Map<string, { running: string[]; done: number; failed: number; last?: StageRow }>> {
    const out = new Map<string, { running: string[]; done: number; failed: number; last?: StageRow }>();
    const get = (a: string) => {
      let v = out.get(a);
      if (!v) out.set(a, (v = { running: [], done: 0, failed: 0 }));
      return v;
    };
    const counts = await this.db
      .selectFrom('pipeline_stages')
      .select((eb) => ['agent', 'status', eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['completed', 'failed'])
      .groupBy(['agent', 'status'])
      .execute();
    for (const c of counts) {
      if (!c.agent) continue;
      if (c.status === 'completed') get(c.agent).done = Number(c.n);
      else get(c.agent).failed = Number(c.n);
    }
    const running = await this.db.selectFrom('pipeline_stages').select(['agent', 'task_id']).where('status', '=', 'running').orderBy('started_at', 'asc').execute();
    for (const r of running) if (r.agent) get(r.agent).running.push(r.task_id);
    for (const agent of [...new Set([...out.keys()])]) {
      const last = await this.db
        .selectFrom('pipeline_stages')
        .selectAll()
        .where('agent', '=', agent)
        .where('status', 'in', ['completed', 'failed'])
        .orderBy('finished_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last) get(agent).last = last;
    }
    return out;
  }

  async completedCount(agent: string): Promise<number> {
    const r = await this.db.selectFrom('pipeline_stages').select((eb) => eb.fn.countAll<number>().as('n')).where('agent', '=', agent).where('status', '=', 'completed').executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}

/** The task row, if it runs under `owner` (the condition of every write of a stage's results). */
function ownedRunning(eb: ExpressionBuilder<Database, 'pipeline_stages'>, taskId: string, owner: string) {
  return eb.selectFrom('pipeline_tasks').select('pipeline_tasks.id').where('pipeline_tasks.id', '=', taskId).where('pipeline_tasks.owner', '=', owner).where('pipeline_tasks.status', '=', 'running');
}

/** What a retry records in the task's options: how many, from which stage, and the verdict it answers. */
export interface RetryRecord {
  count: number;
  from: StageName;
  at: number;
  /** The validator's rejection the rerun implementation is asked to fix. */
  rejected?: StageOutputs['validation'];
}

/** The task's options (JSON): the requested output format, and its last retry. */
export function taskOptions(t: Pick<TaskRow, 'options'>): { output_format?: OutputFormat; retry?: RetryRecord } & Record<string, unknown> {
  const o = parseJson(t.options);
  return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
}

/** The short verdict of a validation stage's output; null when it is not one. */
export function verdictOf(output: unknown): ValidationVerdict | null {
  const v = output as { passed?: unknown; score?: unknown; summary?: unknown } | null;
  if (!v || typeof v !== 'object' || typeof v.passed !== 'boolean') return null;
  return { passed: v.passed, score: Number(v.score), summary: String(v.summary ?? '') };
}

function parseJson(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function summaryOf(t: TaskRow, validation: ValidationVerdict | null = null): TaskSummary {
  return {
    id: t.id,
    requirement: t.requirement,
    priority: Number(t.priority),
    status: t.status as TaskStatus,
    current_stage: t.current_stage as StageName | null,
    output_format: t.output_format as OutputFormat | null,
    error: t.error,
    created_at: Number(t.created_at),
    updated_at: Number(t.updated_at),
    started_at: t.started_at === null ? null : Number(t.started_at),
    finished_at: t.finished_at === null ? null : Number(t.finished_at),
    archived_at: t.archived_at === null ? null : Number(t.archived_at),
    created_by: t.created_by ?? null,
    validation,
    retries: taskOptions(t).retry?.count ?? 0,
  };
}

export function stageView(s: StageRow): StageView {
  const output = parseJson(s.output);
  return {
    stage: s.stage as StageName,
    status: s.status as StageStatus,
    agent: s.agent,
    model: s.model,
    output,
    raw_reply: s.raw_reply,
    error: s.error,
    attempts: Number(s.attempts),
    calls: Number(s.calls),
    input_tokens: Number(s.input_tokens),
    output_tokens: Number(s.output_tokens),
    started_at: s.started_at === null ? null : Number(s.started_at),
    finished_at: s.finished_at === null ? null : Number(s.finished_at),
  };
}
