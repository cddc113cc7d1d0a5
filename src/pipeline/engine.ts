import type { PipelineConfig } from '../config/sections/pipeline.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';
import type { StageAgent } from './agents.js';
import { LEASE, newOwnerId, ownerGoneHere } from './lease.js';
import type { LeaseTimes } from './lease.js';
import type { LlmClient } from './llm-client.js';
import { detectOutputFormat, isWeakRequirement } from './prompts.js';
import type { StageContext } from './prompts.js';
import { newTaskId, stageView, summaryOf, taskOptions, verdictOf } from './repo.js';
import type { PipelineRepo, RetryRecord, TaskRow } from './repo.js';
import type { StageOutputs } from './schemas.js';
import { runStage, StageAborted } from './stage-runner.js';
import { isTerminal, STAGES } from './types.js';
import type { AgentActivityMessage, AgentStatus, FileCreatedMessage, OutputFormat, StageName, TaskStatus, TaskUpdateMessage, TaskView, TaskWaiting, ValidationVerdict } from './types.js';
import { fileSetProblem, isRootReadme } from './workspace.js';
import type { Workspace } from './workspace.js';

export interface EngineDeps {
  repo: PipelineRepo;
  workspace: Workspace;
  client: LlmClient;
  hub: Hub;
  logger: Logger;
  cfg: PipelineConfig;
  agents: Record<StageName, StageAgent>;
  /** The implementer for the language the analysis chose (a catalog specialist), if any. */
  specialist?: (language: string | undefined) => StageAgent | undefined;
  /** Called when a task ends (metrics): its final status and seconds from first start. */
  onTaskEnd?: (status: TaskStatus, seconds: number) => void;
  /** This engine's owner name in the store (default: host, pid and a random part; tests name theirs). */
  instance?: string;
  /** How long a task's lease lasts and how often it is renewed (default `LEASE`: 30 s, 5 s). */
  lease?: LeaseTimes;
}

/** One run of a task in this engine. */
interface LocalRun {
  ac: AbortController;
  /** Why the run lost its task (taken over, lease not renewed); set before it is aborted. */
  lost?: string;
  /** The stage being run, for the warning when the store fails. */
  stage?: StageName | undefined;
  /** Settles when the run has ended here (archive included): a retry waits for it. */
  done: Promise<void>;
}

/** What `retry` did: the stage the task runs again from, or why it cannot be retried (its status and the reason). */
export type RetryAnswer = { retried: true; from: StageName; count: number } | { retried: false; status: TaskStatus; reason: string };

/** What the queue should do after a run: offer the task again after `retryAfterMs`. */
export interface RunOutcome {
  retryAfterMs: number;
}

export interface NewTask {
  requirement: string;
  priority: number;
  output_format?: OutputFormat | undefined;
  /** The submitting user (users.id), if a person logged in submitted it. */
  createdBy?: string | undefined;
}

/**
 * Runs tasks through the stages. Every step is written to the store before it is announced on
 * the hub, so what a client sees is what a restarted daemon resumes from: finished stages are
 * never redone, the stage that was running starts again. A running task is this instance's only
 * while it holds the task's lease (lease.ts): every write of a run is conditional on it.
 */
export class PipelineEngine {
  private readonly running = new Map<string, LocalRun>();
  /** Tasks whose stage is waiting for a busy gateway, shown in their view until the wait ends. */
  private readonly waiting = new Map<string, TaskWaiting>();
  /** Tasks being archived here (the end of a run and the cleanup's sweep may meet). */
  private readonly archiving = new Set<string>();
  private closing = false;
  /** The tasks each stage agent works on here now (its card stays Working while any is left). */
  private readonly busy = new Map<string, Set<string>>();
  /** A stop began: tasks given to `run` are declined. */
  get isClosing(): boolean {
    return this.closing;
  }
  /** The owner name this engine writes into the tasks it runs (lease.ts). */
  readonly instance: string;
  private readonly lease: LeaseTimes;

  constructor(private readonly d: EngineDeps) {
    this.instance = d.instance ?? newOwnerId();
    this.lease = d.lease ?? LEASE;
  }

  /** Creates the task durably and announces it; the caller enqueues it. */
  async create(input: NewTask): Promise<TaskRow> {
    const id = newTaskId();
    const enhance = this.d.cfg.enhance === 'always' || (this.d.cfg.enhance === 'auto' && isWeakRequirement(input.requirement, this.d.cfg.weak_min_words));
    const format = input.output_format ?? detectOutputFormat(input.requirement);
    const agents = Object.fromEntries(STAGES.map((s) => [s, { id: this.d.agents[s].id, model: this.d.agents[s].model }])) as Record<StageName, { id: string; model: string }>;
    const row = await this.d.repo.create({ id, requirement: input.requirement, priority: input.priority, format, enhance, options: input.output_format ? { output_format: input.output_format } : {}, agents, createdBy: input.createdBy });
    this.taskUpdate(row, 'created', null, { detail: { enhance, output_format: format } });
    this.log('info', row.id, undefined, `Task created: ${row.id} (priority ${row.priority}, format ${format}${enhance ? ', prompt enhancement' : ''})`);
    return row;
  }

  /**
   * The job: runs (or resumes) a task to its end. Safe to call for a finished task, or one that
   * runs here or under another instance's live lease (no-op). Returns when to offer the task
   * again, if it should be: its lease is held elsewhere, or the store failed.
   */
  async run(taskId: string): Promise<RunOutcome | undefined> {
    if (this.closing || this.running.has(taskId)) return undefined;
    let settle = (): void => undefined;
    const local: LocalRun = { ac: new AbortController(), done: new Promise<void>((r) => (settle = r)) };
    this.running.set(taskId, local);
    let claimed = false;
    let stopWatch: (() => void) | undefined;
    try {
      const task = await this.d.repo.get(taskId);
      if (!task || isTerminal(task.status)) return undefined;
      const claim = await this.claim(task);
      if (!claim.task) return claim.retryAfterMs === undefined ? undefined : { retryAfterMs: claim.retryAfterMs };
      claimed = true;
      stopWatch = this.watch(taskId, local);
      await this.runStages(claim.task, task.started_at !== null, local);
      // A lost lease (the store stopped answering, or another instance took the task): offered
      // again once the lease has run out. Without a Redis queue nothing else would bring it back,
      // and a task whose store came back stayed "running" until a restart.
      return local.lost !== undefined && !this.closing ? { retryAfterMs: this.lease.ttlMs } : undefined;
    } catch (e) {
      // Nearly always the store (the database is down): say which task and stage stopped.
      const where = local.stage ? ` during ${local.stage}` : '';
      this.log('warn', taskId, local.stage, `task ${taskId} stopped${where}: its state could not be read or written: ${(e as Error).message}; it runs again once the store answers`);
      return { retryAfterMs: this.lease.ttlMs };
    } finally {
      stopWatch?.();
      this.running.delete(taskId);
      // whatever way the run ended, no card stays Working on it
      for (const [agent, tasks] of this.busy) if (tasks.delete(taskId) && tasks.size === 0) this.busy.delete(agent);
      settle();
      // a graceful stop hands the task over at once instead of after the lease
      if (claimed && this.closing && !local.lost) await this.d.repo.release(taskId, this.instance).catch(() => undefined);
    }
  }

  /**
   * Takes the task: queued, or running with a free lease (released, expired, or its owner's
   * process is known to have ended). A live lease of another instance is left alone.
   */
  private async claim(task: TaskRow): Promise<{ task?: TaskRow; retryAfterMs?: number }> {
    const now = Date.now();
    const startedAt = task.started_at === null ? now : Number(task.started_at);
    const goneOwner = task.status === 'running' && task.owner && task.owner !== this.instance && ownerGoneHere(task.owner) ? task.owner : undefined;
    if (await this.d.repo.claim(task.id, this.instance, { startedAt, now, ttlMs: this.lease.ttlMs, goneOwner })) {
      return { task: { ...task, status: 'running', owner: this.instance, started_at: startedAt } };
    }
    const t = await this.d.repo.get(task.id);
    if (!t || isTerminal(t.status)) return {};
    if (t.status !== 'running' || !t.owner) return { retryAfterMs: 1000 };
    const age = Math.max(0, Date.now() - Number(t.updated_at));
    this.log('info', task.id, undefined, `task ${task.id} is running on ${t.owner} (lease renewed ${Math.round(age / 1000)} s ago): not taking it over`);
    return { retryAfterMs: Math.max(0, this.lease.ttlMs - age) + this.lease.renewMs };
  }

  /**
   * While a run lasts: renews its lease every `renewMs` and checks the task every second; stops
   * the run when the task is cancelled, taken over, or the lease could not be renewed for almost
   * `ttlMs` (past it another instance may take the task).
   */
  private watch(taskId: string, local: LocalRun): () => void {
    let renewedAt = Date.now();
    let busy = false;
    const tick = async (): Promise<void> => {
      try {
        const t = await this.d.repo.get(taskId);
        if (t?.status === 'cancelled') return local.ac.abort();
        if (t?.status === 'running' && t.owner !== this.instance) return this.lose(local, `${t.owner ?? 'another instance'} took it over`);
        if (Date.now() - renewedAt >= this.lease.renewMs && (await this.d.repo.renew(taskId, this.instance))) renewedAt = Date.now();
      } catch {
        const silent = Date.now() - renewedAt;
        if (silent >= this.lease.ttlMs - this.lease.renewMs) this.lose(local, `its lease could not be renewed for ${Math.round(silent / 1000)} s (the store did not answer)`);
      }
    };
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void tick().finally(() => (busy = false));
    }, Math.min(1000, this.lease.renewMs));
    timer.unref();
    return () => clearInterval(timer);
  }

  private lose(local: LocalRun, reason: string): void {
    if (local.lost !== undefined || local.ac.signal.aborted) return;
    local.lost = reason;
    local.ac.abort();
  }

  private async runStages(task: TaskRow, resumed: boolean, local: LocalRun): Promise<void> {
    const signal = local.ac.signal;
    const me = this.instance;
    this.taskUpdate(task, resumed ? 'resumed' : 'started', task.current_stage as StageName | null);
    this.log('info', task.id, undefined, resumed ? `task ${task.id} resumed at ${task.current_stage ?? 'the first stage'}` : `task ${task.id} started`);

    const rows = await this.d.repo.stages(task.id);
    const outputs: Partial<StageOutputs> = {};
    for (const r of rows) if (r.status === 'completed' && r.output) (outputs as Record<string, unknown>)[r.stage] = JSON.parse(r.output);
    let enhanced = task.enhanced_requirement;
    let format = task.output_format as OutputFormat | null;
    // A retried task asks again: the gateway's cache would replay the answers that failed.
    const retry = taskOptions(task).retry;

    for (const stage of STAGES) {
      const row = rows.find((r) => r.stage === stage);
      if (!row || row.status === 'completed') continue;
      if (row.status === 'skipped') {
        if (!resumed) this.taskUpdate(task, 'stage_skipped', stage, { detail: { reason: 'the requirement is specific enough' } });
        continue;
      }
      if (signal.aborted) return this.stopped(task, stage, local);
      // A rejection stored, and the task's end not (a kill or a store error between the two
      // writes of `rejected`): a resume must not integrate what the validator refused.
      if (stage === 'integration' && outputs.validation && !outputs.validation.passed && this.d.cfg.fail_on_validation_reject) {
        return this.rejected(task, this.d.agents.validation, outputs.validation, 0, local);
      }
      local.stage = stage;
      const agent = (stage === 'implementation' && this.d.specialist?.(outputs.analysis?.language)) || this.d.agents[stage];
      const attempt = await this.d.repo.startStageOwned(task.id, stage, me, agent.id, agent.model);
      if (attempt === undefined || !(await this.d.repo.updateOwned(task.id, me, { current_stage: stage }))) return this.notOurs(task, stage, local);
      task = { ...task, current_stage: stage };
      this.taskUpdate(task, 'stage_started', stage, { detail: { agent: agent.id, model: agent.model, attempt } });
      await this.agentActivity(agent, 'Working', task.id, `${agent.name} is working on ${stage} of ${task.id}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
      // the seed's log lines ("Analysis started for task_…", "Analysis completed in 4.2s", "Validation passed", "Integration successful")
      this.log('info', task.id, stage, `${stageTitle(stage)} started for ${task.id} (${agent.name})`, { agent: agent.id, model: agent.model, attempt });
      const stageStarted = Date.now();

      const context: StageContext = { requirement: task.requirement, enhanced, format, outputs, maxChars: this.d.cfg.context_max_chars, ...(stage === 'implementation' && retry?.rejected ? { rejected: retry.rejected } : {}) };
      let result;
      try {
        result = await runStage({
          stage,
          agent,
          context,
          client: this.d.client,
          cfg: this.d.cfg,
          taskId: task.id,
          signal,
          bypassCache: retry !== undefined,
          onWait: (w) => void this.stageWaiting(task, stage, agent, w.waitMs, w.reason),
          log: (level, msg, extra) => this.log(level, task.id, stage, msg, { agent: agent.id, ...extra }),
        });
      } catch (e) {
        if (e instanceof StageAborted) return this.stopped(task, stage, local);
        throw e;
      } finally {
        this.waiting.delete(task.id);
      }
      // Every write of the stage's results holds only while the task still runs under this
      // instance: a cancel, or another instance that took the task over, wins.
      const usage = { calls: result.calls, input_tokens: result.usage.input_tokens, output_tokens: result.usage.output_tokens, raw_reply: result.ok ? null : result.raw };
      if (!(await this.d.repo.updateStageOwned(task.id, stage, me, usage))) return this.notOurs(task, stage, local);
      if (!result.ok) return this.fail(task, stage, result.error, local, verdictOf(outputs.validation));

      // The format the request asked for is the task's: the analysis plans in it, whatever it chose.
      const asked = taskOptions(task).output_format;
      if (stage === 'analysis' && asked) (result.output as StageOutputs['analysis']).output_format = asked;
      (outputs as Record<string, unknown>)[stage] = result.output;
      if (stage === 'enhancement') {
        enhanced = (result.output as StageOutputs['enhancement']).enhanced_requirement;
        if (!(await this.d.repo.updateOwned(task.id, me, { enhanced_requirement: enhanced }))) return this.notOurs(task, stage, local);
      }
      if (stage === 'analysis') {
        format = (result.output as StageOutputs['analysis']).output_format;
        if (!(await this.d.repo.updateOwned(task.id, me, { output_format: format }))) return this.notOurs(task, stage, local);
      }
      if (stage === 'validation') {
        const v = result.output as StageOutputs['validation'];
        if (!v.passed && this.d.cfg.fail_on_validation_reject) return this.rejected(task, agent, v, result.calls, local);
        if (!v.passed) this.log('warn', task.id, stage, `${rejectionLine(v)}; the task completes anyway ([pipeline] fail_on_validation_reject = false)`, { agent: agent.id, score: v.score, issues: v.issues });
      }
      if (stage === 'integration') {
        let dir: string;
        try {
          dir = this.writeFiles(task, outputs as StageOutputs);
        } catch (e) {
          return this.fail(task, stage, `integration could not write the files: ${this.writeError(e, `, then retry the task (POST /api/tasks/${task.id}/retry)`)}`, local, verdictOf(outputs.validation));
        }
        if (!(await this.d.repo.updateOwned(task.id, me, { workspace_path: dir }))) return this.notOurs(task, stage, local);
      }
      if (!(await this.d.repo.updateStageOwned(task.id, stage, me, { status: 'completed', output: JSON.stringify(result.output), finished_at: Date.now() }))) return this.notOurs(task, stage, local);
      const summary = outputSummary(stage, result.output);
      this.taskUpdate(task, 'stage_completed', stage, { detail: { agent: agent.id, summary, calls: result.calls } });
      await this.agentActivity(agent, 'Ready', task.id, `${agent.name} finished ${stage} of ${task.id}`, summary);
      this.log('info', task.id, stage, `${finishedLine(stage, result.output, Date.now() - stageStarted)} (${agent.name}): ${summary}`, { agent: agent.id, calls: result.calls, ...result.usage });
    }

    local.stage = undefined;
    if (!(await this.d.repo.endOwned(task.id, me, { status: 'completed', current_stage: null, finished_at: Date.now() }))) return this.notOurs(task, undefined, local);
    task = { ...task, status: 'completed', current_stage: null };
    this.ended(task, 'completed');
    this.taskUpdate(task, 'completed', null, { validation: verdictOf(outputs.validation) });
    this.log('info', task.id, undefined, `Task completed: ${task.id}`);
    await this.archive(task.id);
  }

  /** A stage waits for a busy gateway: said on the hub and in the task's view, the card stays Working. */
  private async stageWaiting(task: TaskRow, stage: StageName, agent: StageAgent, waitMs: number, reason: string): Promise<void> {
    const until = Date.now() + waitMs;
    this.waiting.set(task.id, { stage, until, reason });
    this.taskUpdate(task, 'stage_waiting', stage, { detail: { agent: agent.id, wait_ms: waitMs, until, reason } });
    await this.agentActivity(agent, 'Working', task.id, `${agent.name} is waiting ${Math.ceil(waitMs / 1000)} s for the provider before trying ${stage} of ${task.id} again: ${reason}`);
  }

  /** Writes the implementation's files and the README into the task's folder; returns the folder. */
  private writeFiles(task: TaskRow, outputs: StageOutputs): string {
    const files = [...outputs.implementation.files];
    if (!files.some((f) => isRootReadme(f.path))) files.push({ path: 'README.md', content: outputs.integration.readme });
    // An implementation stored before the set was checked (a resumed task) fails here, clearly.
    const problem = fileSetProblem(files.map((f) => f.path));
    if (problem) throw new Error(problem);
    const dir = this.d.workspace.taskDir(task.id);
    for (const f of files) {
      const abs = this.d.workspace.writeFile(task.id, f.path, f.content);
      const msg: FileCreatedMessage = { task_id: task.id, path: f.path, bytes: Buffer.byteLength(f.content), workspace_path: abs };
      this.d.hub.publish('file_created', msg);
      this.log('info', task.id, 'integration', `file written: ${f.path} (${msg.bytes} bytes)`, { path: f.path });
    }
    return dir;
  }

  /**
   * A failed write of the workspace or the archive, for a person: the folder this user cannot
   * write or the file in the way, and its fix, followed by `then` (was: the raw
   * `EACCES: permission denied, mkdir '…'`). Any other error: its message.
   */
  private writeError(e: unknown, then = ''): string {
    const problem = this.d.workspace.writeProblem(e);
    return problem ? `${problem}${then}` : (e as Error).message;
  }

  private async fail(task: TaskRow, stage: StageName, error: string, local: LocalRun, validation: ValidationVerdict | null): Promise<void> {
    const agent = this.d.agents[stage];
    const me = this.instance;
    if (!(await this.d.repo.updateStageOwned(task.id, stage, me, { status: 'failed', error, finished_at: Date.now() }))) return this.notOurs(task, stage, local);
    if (!(await this.d.repo.endOwned(task.id, me, { status: 'failed', error, finished_at: Date.now() }, 'cancelled'))) return this.notOurs(task, stage, local);
    this.taskUpdate(task, 'stage_failed', stage, { error });
    await this.agentActivity(agent, 'Error', task.id, `${agent.name} failed ${stage} of ${task.id}: ${error}`);
    this.log('error', task.id, stage, `${stage} failed: ${error}`, { agent: agent.id });
    this.ended(task, 'failed');
    this.taskUpdate({ ...task, status: 'failed' }, 'failed', stage, { error, validation });
    await this.archive(task.id);
  }

  /**
   * The validator rejected the implementation (PRODUCT.md: "a failing validator is reported as a
   * failure"): the validation stage did its work (completed, its verdict kept), the task fails
   * with "Validation failed: <summary>" and its integration does not run.
   */
  private async rejected(task: TaskRow, agent: StageAgent, v: StageOutputs['validation'], calls: number, local: LocalRun): Promise<void> {
    const me = this.instance;
    const error = `Validation failed: ${v.summary}`;
    const verdict = verdictOf(v);
    if (!(await this.d.repo.updateStageOwned(task.id, 'validation', me, { status: 'completed', output: JSON.stringify(v), finished_at: Date.now() }))) return this.notOurs(task, 'validation', local);
    if (!(await this.d.repo.endOwned(task.id, me, { status: 'failed', error, finished_at: Date.now() }, 'cancelled'))) return this.notOurs(task, 'validation', local);
    const summary = outputSummary('validation', v);
    this.taskUpdate(task, 'stage_completed', 'validation', { detail: { agent: agent.id, summary, calls } });
    await this.agentActivity(agent, 'Ready', task.id, `${agent.name} rejected the implementation of ${task.id}`, summary);
    this.log('error', task.id, 'validation', `${rejectionLine(v)}; task ${task.id} failed (POST /api/tasks/${task.id}/retry reruns its implementation with these issues)`, { agent: agent.id, score: v.score, issues: v.issues });
    this.ended(task, 'failed');
    this.taskUpdate({ ...task, status: 'failed' }, 'failed', 'validation', { error, validation: verdict });
    await this.archive(task.id);
  }

  /**
   * Puts a failed, cancelled or validation-rejected task back in the queue (the caller queues
   * it): from the stage that failed or was cut off, or from the implementation when the
   * validator rejected it (its issues go to the implementer). Finished stages before it are
   * kept; the rerun's LLM calls bypass the gateway's cache, so they really ask again.
   */
  async retry(taskId: string): Promise<RetryAnswer> {
    let t = await this.d.repo.get(taskId);
    if (!t) throw new Error('not found');
    // the end of a run here (its archive) finishes before the task starts over
    const local = this.running.get(taskId);
    if (local && isTerminal(t.status)) {
      await Promise.race([local.done, new Promise((r) => setTimeout(r, 10_000).unref())]);
      t = (await this.d.repo.get(taskId)) ?? t;
    }
    const rows = await this.d.repo.stages(taskId);
    const validation = rows.find((r) => r.stage === 'validation');
    const output = validation ? stageView(validation).output : null;
    const verdict = verdictOf(output) ? (output as StageOutputs['validation']) : undefined;
    const rejected = verdict !== undefined && !verdict.passed;
    const status = t.status as TaskStatus;
    if (!(status === 'failed' || status === 'cancelled' || (status === 'completed' && rejected))) {
      return { retried: false, status, reason: status === 'completed' ? 'it completed and its validation passed' : `it is still ${status}` };
    }
    const from: StageName = rejected ? 'implementation' : (STAGES.find((s) => !['completed', 'skipped'].includes(rows.find((r) => r.stage === s)?.status ?? '')) ?? 'integration');
    const previous = taskOptions(t);
    // the rejection the implementer must fix: this one, or the one an earlier retry answered if the implementation runs again
    const toFix = rejected ? verdict : STAGES.indexOf(from) <= STAGES.indexOf('implementation') ? previous.retry?.rejected : undefined;
    const record: RetryRecord = { count: (previous.retry?.count ?? 0) + 1, from, at: Date.now(), ...(toFix ? { rejected: toFix } : {}) };
    if (!(await this.d.repo.resetForRetry(taskId, status, STAGES.indexOf(from), { ...previous, retry: record }))) {
      const now = (await this.d.repo.get(taskId))?.status as TaskStatus;
      return { retried: false, status: now, reason: `it changed meanwhile (now ${now})` };
    }
    // the rerun writes the task's files again: none of the previous run's may stay among them
    try {
      this.d.workspace.removeTaskDir(taskId);
    } catch (e) {
      this.log('warn', taskId, undefined, `task ${taskId}: the previous run's folder could not be removed: ${this.writeError(e)}`);
    }
    const queued = (await this.d.repo.get(taskId)) ?? { ...t, status: 'queued' };
    this.taskUpdate(queued, 'retried', null, { detail: { from, retries: record.count, previous_status: status } });
    this.log('info', taskId, from, `task ${taskId} retried from ${from} (retry ${record.count}, was ${status}${rejected ? ', validation failed' : ''}); finished stages before it are kept, its LLM calls bypass the gateway cache`);
    return { retried: true, from, count: record.count };
  }

  /** A write of the run was refused: the task was cancelled, or it is no longer ours. Nothing more is written. */
  private async notOurs(task: TaskRow, stage: StageName | undefined, local: LocalRun): Promise<void> {
    const t = await this.d.repo.get(task.id);
    if (t?.status !== 'cancelled') this.lose(local, t?.owner && t.owner !== this.instance ? `${t.owner} took it over` : `the task is ${t?.status ?? 'gone'}`);
    return this.stopped(task, stage, local);
  }

  /** The run stopped for a cancel (state already stored), a lost lease, or a shutdown (resumes on next start). */
  private async stopped(task: TaskRow, stage: StageName | undefined, local: LocalRun): Promise<void> {
    const where = stage ?? 'its end';
    const agent = stage ? this.d.agents[stage] : undefined;
    if (local.lost !== undefined) {
      this.log('warn', task.id, stage, `task ${task.id}: this instance lost it during ${where} (${local.lost}); stopped without writing its results`);
      if (agent) await this.agentActivity(agent, 'Ready', task.id, `${agent.name} stopped ${stage} of ${task.id}: it runs elsewhere now`);
      return;
    }
    if (this.closing) {
      this.log('info', task.id, stage, `daemon stopping: ${where} of ${task.id} will resume on the next start`);
      return;
    }
    if (agent) await this.agentActivity(agent, 'Ready', task.id, `${agent.name} stopped ${stage}: ${task.id} was cancelled`);
    this.log('info', task.id, stage, `task ${task.id} cancelled during ${where}`);
  }

  /** Cancels a queued or running task. Returns the new status, or the old one when it had finished. */
  async cancel(taskId: string): Promise<{ changed: boolean; status: TaskStatus }> {
    const t = await this.d.repo.get(taskId);
    if (!t) throw new Error('not found');
    const ok = await this.d.repo.transition(taskId, ['queued', 'running'], { status: 'cancelled', error: 'cancelled by request', finished_at: Date.now() }, 'cancelled');
    if (!ok) return { changed: false, status: (await this.d.repo.get(taskId))?.status as TaskStatus };
    this.running.get(taskId)?.ac.abort();
    this.ended(t, 'cancelled');
    this.taskUpdate({ ...t, status: 'cancelled' }, 'cancelled', t.current_stage as StageName | null);
    this.log('info', taskId, undefined, `task ${taskId} cancelled`);
    await this.archive(taskId);
    return { changed: true, status: 'cancelled' };
  }

  private ended(t: TaskRow, status: TaskStatus): void {
    const from = t.started_at === null ? Number(t.created_at) : Number(t.started_at);
    this.d.onTaskEnd?.(status, Math.max(0, (Date.now() - from) / 1000));
  }

  /**
   * Archives an ended task and records it (once: of two instances archiving the same task, one
   * records and announces it). A failure is logged; `archivePending` tries again.
   */
  private async archive(taskId: string): Promise<boolean> {
    if (this.archiving.has(taskId)) return false;
    this.archiving.add(taskId);
    try {
      const view = await this.view(taskId);
      if (!view || !isTerminal(view.status)) return false;
      // a retried task's archive replaces the one of its previous run
      const dest = this.d.workspace.archive(taskId, view, { gzipLevel: this.d.cfg.archive_compression ? this.d.cfg.archive_compression_level : undefined, replace: view.retries > 0 });
      if (!(await this.d.repo.markArchived(taskId, Date.now(), dest))) return false;
      const t = await this.d.repo.get(taskId);
      if (t) this.taskUpdate(t, 'archived', null, { detail: { archive_path: dest } });
      return true;
    } catch (e) {
      this.log('error', taskId, undefined, `archiving ${taskId} failed: ${this.writeError(e)}; it is tried again at the next cleanup`);
      return false;
    } finally {
      this.archiving.delete(taskId);
    }
  }

  /**
   * Archives the ended tasks that have no archive recorded: a daemon killed between a task's end
   * and its archive, or an archive that failed (a full disk). Run at start and at each cleanup.
   */
  async archivePending(limit = 100): Promise<number> {
    let n = 0;
    for (const t of await this.d.repo.unarchived(limit)) if (await this.archive(t.id)) n++;
    return n;
  }

  async view(taskId: string): Promise<TaskView | undefined> {
    const t = await this.d.repo.get(taskId);
    if (!t) return undefined;
    const stages = (await this.d.repo.stages(taskId)).map(stageView);
    const validation = verdictOf(stages.find((s) => s.stage === 'validation')?.output);
    const integ = stages.find((s) => s.stage === 'integration');
    const impl = stages.find((s) => s.stage === 'implementation')?.output as StageOutputs['implementation'] | null;
    const files = integ?.status === 'completed' && impl ? [...new Set([...impl.files.map((f) => f.path), ...(impl.files.some((f) => isRootReadme(f.path)) ? [] : ['README.md'])])] : [];
    const waiting = this.waiting.get(taskId);
    return {
      ...summaryOf(t, validation),
      prompts: { original: t.requirement, enhanced: t.enhanced_requirement },
      stages,
      files,
      workspace_path: t.workspace_path,
      archive_path: t.archive_path,
      ...(waiting && waiting.until > Date.now() && t.status === 'running' ? { waiting } : {}),
    };
  }

  /** Aborts in-flight calls without changing stored state: the tasks resume on the next start. */
  close(): void {
    this.closing = true;
    for (const r of this.running.values()) r.ac.abort();
  }

  get activeCount(): number {
    return this.running.size;
  }

  private taskUpdate(t: TaskRow, event: TaskUpdateMessage['event'], stage: StageName | null, extra: { error?: string; validation?: ValidationVerdict | null; detail?: Record<string, unknown> } = {}): void {
    const msg: TaskUpdateMessage = { event, task_id: t.id, status: t.status as TaskStatus, stage, priority: Number(t.priority), ...extra };
    this.d.hub.publish('task_update', msg);
  }

  private async agentActivity(agent: StageAgent, said: AgentStatus, taskId: string | null, message: string, lastOutput?: string): Promise<void> {
    // The card is the agent's, not one task's: with tasks overlapping in a stage (concurrency 2
    // and up), one task's end leaves the agent Working on the other's, as GET /api/agents says.
    let tasks = this.busy.get(agent.id);
    if (taskId !== null) {
      if (said === 'Working') (tasks ??= this.busy.set(agent.id, new Set()).get(agent.id) as Set<string>).add(taskId);
      else tasks?.delete(taskId);
    }
    if (tasks?.size === 0) this.busy.delete(agent.id);
    const still = said !== 'Working' && tasks?.size ? [...tasks][tasks.size - 1] : undefined;
    const status: AgentStatus = still ? 'Working' : said;
    const done = await this.d.repo.completedCount(agent.id).catch(() => 0);
    // `task_id` is the card's current task, so only while Working; `last_task_id` says which task a Ready/Error is about.
    const msg: AgentActivityMessage = {
      agent: agent.id,
      name: agent.name,
      stage: agent.stage,
      status,
      task_id: status === 'Working' ? (still ?? taskId) : null,
      last_task_id: taskId,
      tasks_done: done,
      message,
      ...(lastOutput ? { last_output: lastOutput } : {}),
    };
    this.d.hub.publish('agent_activity', msg);
  }

  /** Agent logs go through the daemon logger, which the daemon mirrors to the hub as `log`. */
  private log(level: 'info' | 'warn' | 'error', taskId: string, stage: StageName | undefined, msg: string, extra: Record<string, unknown> = {}): void {
    this.d.logger[level]({ task_id: taskId, ...(stage ? { stage } : {}), ...extra }, msg);
  }
}

const stageTitle = (stage: StageName): string => `${stage[0]?.toUpperCase() ?? ''}${stage.slice(1)}`;

/** The seed's words for a stage that finished: "Validation passed", "Integration successful", "Analysis completed in 4.2s". */
function finishedLine(stage: StageName, output: unknown, ms: number): string {
  if (stage === 'validation') return (output as StageOutputs['validation']).passed ? 'Validation passed' : 'Validation finished (rejected)';
  if (stage === 'integration') return 'Integration successful';
  return `${stageTitle(stage)} completed in ${(ms / 1000).toFixed(1)}s`;
}

/** The log line of a rejection, with the words the seed's guide greps for ("Validation failed"). */
function rejectionLine(v: StageOutputs['validation']): string {
  const worst = v.issues.find((i) => i.severity === 'critical') ?? v.issues.find((i) => i.severity === 'major');
  return `Validation failed: ${v.summary} (score ${v.score}${worst ? `; ${worst.severity}: ${worst.file ? `${worst.file}: ` : ''}${worst.message}` : ''})`;
}

/** One line describing a stage's output (agent cards' "last output"). */
export function outputSummary(stage: StageName, out: unknown): string {
  const o = out as Record<string, unknown>;
  switch (stage) {
    case 'enhancement':
      return `enhanced requirement with ${(o.acceptance_criteria as unknown[]).length} acceptance criteria`;
    case 'analysis':
      return `${String(o.output_format)}: ${String(o.summary).slice(0, 160)}`;
    case 'implementation': {
      const files = (o.files as { path: string }[]).map((f) => f.path);
      return `${files.length} file${files.length === 1 ? '' : 's'}: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}`;
    }
    case 'validation':
      return `${o.passed ? 'passed' : 'rejected'} (score ${String(o.score)}): ${String(o.summary).slice(0, 160)}`;
    case 'integration':
      return String(o.summary).slice(0, 200);
  }
}
