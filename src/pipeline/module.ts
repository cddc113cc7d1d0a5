import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram } from 'prom-client';
import type { AgentCatalog } from '../agents/types.js';
import { pipelineSettings } from '../config/sections/pipeline.js';
import { AppError } from '../core/errors.js';
import type { DaemonModule, ModuleContext, PartHealth } from '../server/module.js';
import { resolveStageAgents, specialistFor } from './agents.js';
import { PipelineApi } from './api.js';
import type { SubmitResult } from './api.js';
import { PipelineEngine } from './engine.js';
import { gatewayClient } from './llm-client.js';
import type { LlmClient } from './llm-client.js';
import { withTimeout } from '../core/timeout.js';
import { BacklogWatch, LocalQueue } from './queue.js';
import type { TaskQueue } from './queue.js';
import { PipelineRepo } from './repo.js';
import { registerPipelineRoutes } from './routes.js';
import { isTerminal } from './types.js';
import type { AgentView, Requester, TaskStatus, TaskSummary, TaskView } from './types.js';
import { Workspace } from './workspace.js';

export type { AgentView, TaskSummary, TaskView } from './types.js';
export type { SubmitResult } from './api.js';

/** The headless pipeline: requirements become tasks run through agent stages. */
export interface PipelineModule extends DaemonModule {
  readonly name: 'pipeline';
  /** Validates `{requirement, priority?, output_format?}` (400 AppError naming the field), stores and queues the task. */
  submit(input: unknown, by?: Requester): Promise<SubmitResult>;
  /**
   * A task with its prompts, stages (outputs, errors, raw replies) and files; undefined if
   * unknown. With `by`: a 403 AppError when it is another requester's and `by` is no admin.
   */
  getTask(id: string, by?: Requester): Promise<TaskView | undefined>;
  listTasks(q?: { status?: TaskStatus; limit?: number; offset?: number }): Promise<{ tasks: TaskSummary[]; total: number }>;
  /** The pipeline's agents (one per stage), keyed by agent id. */
  listAgents(): Promise<Record<string, AgentView>>;
  /** Cancels a queued or running task (404 unknown, 409 already ended). */
  cancel(id: string): Promise<TaskView>;
  /**
   * Reruns a failed, cancelled or validation-rejected task from its failed stage, finished stages
   * kept, its LLM calls bypassing the gateway cache (404 unknown, 409 any other status; with
   * `by`, 403 for another requester's task unless `by` is an admin).
   */
  retry(id: string, by?: Requester): Promise<TaskView>;
}

export interface PipelineDeps {
  catalog: AgentCatalog;
  /** Replaces the gateway client (tests of the module alone). */
  llm?: LlmClient;
  /** BullMQ key prefix (tests use one per run). */
  queuePrefix?: string;
  /** How long /health reuses its check of the workspace folders (default 5 s; tests set 0). */
  folderCheckTtlMs?: number;
}

export async function createPipelineModule(ctx: ModuleContext, deps: PipelineDeps): Promise<PipelineModule> {
  // the seed's LLM_MAX_TOKENS, LLM_TEMPERATURE and LLM_MODEL win over daemon.toml
  const cfg = pipelineSettings(ctx.config.pipeline, ctx.env);
  const repo = new PipelineRepo(ctx.store);
  const workspace = new Workspace(ctx.paths.workspaceDir, ctx.paths.archiveDir);
  const agents = resolveStageAgents(cfg, deps.catalog);
  const logger = ctx.logger.child({ module: 'pipeline' });
  const client =
    deps.llm ??
    gatewayClient({
      baseUrl: () => ctx.selfUrl(),
      apiKey: ctx.env.ANTHROPIC_API_KEY,
      accessToken: ctx.accessToken,
      timeoutMs: cfg.request_timeout_ms,
    });
  const duration = new Histogram({
    name: 'task_processing_duration_seconds',
    help: 'Pipeline task duration from start to end, by final status',
    labelNames: ['status'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [ctx.metrics],
  });
  const engine = new PipelineEngine({
    repo,
    workspace,
    client,
    hub: ctx.hub,
    logger,
    cfg,
    agents,
    specialist: (lang) => specialistFor(lang, cfg, deps.catalog),
    onTaskEnd: (status, seconds) => duration.observe({ status }, seconds),
  });
  // BullMQ (and ioredis) load only in team mode: the embedded default should not pay for them.
  const queue: TaskQueue = ctx.redisUrl
    ? new (await import('./bull-queue.js')).BullQueue(ctx.redisUrl, { concurrency: cfg.concurrency, prefix: deps.queuePrefix ?? cfg.queue_prefix, logger })
    : new LocalQueue(cfg.concurrency, logger);
  // the seed's warning sign: "Task queue backing up: 5 pending" (more runners than that: once every runner has one waiting)
  const backlog = new BacklogWatch(Math.max(5, cfg.concurrency), cfg.concurrency, logger);
  const api = new PipelineApi(
    engine,
    repo,
    () => queue,
    agents,
    cfg.max_requirement_chars,
    (id, e) => logger.warn({ task_id: id, err: (e as Error).message }, `task ${id} is stored but could not be queued yet; it will be queued when the queue is reachable`),
    () => void queue.depth().then((n) => backlog.check(n), () => undefined),
  );
  let cleanupTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  /**
   * Queues every unfinished task again (jobs are deduplicated by task id: a waiting one is never
   * doubled). One at a time; each add bounded, as Redis may be away (BullMQ would wait for it).
   */
  let requeuing: Promise<number> | undefined;
  const requeue = (): Promise<number> =>
    (requeuing ??= (async () => {
      try {
        const pending = await repo.unfinished();
        for (const t of pending) await withTimeout(queue.add(t.id, Number(t.priority)), REQUEUE_ADD_MS, 'the task queue (Redis)');
        return pending.length;
      } finally {
        requeuing = undefined;
      }
    })());
  let started = false;
  const folders = cachedCheck(() => withTimeout(workspace.writableProblem(), 1500, 'the workspace folder check'), deps.folderCheckTtlMs ?? FOLDER_CHECK_TTL_MS);
  /** Tasks whose archive retention deleted and whose row still names it (kept for the next cleanup if the store failed). */
  const deletedArchives = new Set<string>();
  const deletedWorkspaces = new Set<string>();

  /**
   * Retention, the leftovers of writes a kill interrupted, and the ended tasks whose archive is
   * missing (a kill between a task's end and its archive, a disk error): at start and then
   * every `cleanup_interval_minutes`.
   */
  const cleanup = async (): Promise<void> => {
    try {
      const stale = workspace.removeStaleTemps();
      if (stale) logger.info({ removed: stale }, `removed ${stale} temporary file(s) left by interrupted writes`);
      const r = workspace.cleanup({ archiveDays: cfg.archive_retention_days, archiveMax: cfg.archive_max_tasks, archiveMaxBytes: cfg.archive_max_size_mb * 1024 * 1024, workspaceDays: cfg.workspace_retention_days });
      for (const id of r.archivedTasks) deletedArchives.add(id);
      for (const id of r.workspaceTasks) deletedWorkspaces.add(id);
      if (r.archives || r.workspaces) logger.info({ archives: r.archives, workspaces: r.workspaces }, 'pipeline retention cleanup');
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'pipeline retention cleanup failed');
    }
    try {
      // GET /api/tasks/:id must not show a deleted archive's folder as its archive_path
      for (const [column, deleted, dirOf] of [
        ['archive_path', deletedArchives, (id: string) => workspace.archiveDirOf(id)],
        ['workspace_path', deletedWorkspaces, (id: string) => workspace.taskDir(id)],
      ] as const) {
        if (!deleted.size) continue;
        const ids = [...deleted];
        await repo.foldersDeleted(column, ids.map((id) => ({ id, path: dirOf(id) })));
        for (const id of ids) deleted.delete(id);
      }
    } catch (e) {
      logger.warn({ err: (e as Error).message, tasks: deletedArchives.size + deletedWorkspaces.size }, 'pipeline: clearing the paths of deleted archives or task folders failed; tried again at the next cleanup');
    }
    try {
      const archived = await engine.archivePending();
      if (archived) logger.info({ tasks: archived }, `archived ${archived} ended task(s) whose archive was missing`);
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'pipeline: looking for ended tasks to archive failed');
    }
  };

  /**
   * The in-process queue offers a task again that could not run now (another instance holds its
   * lease, the store failed). BullMQ's re-queue sweep does the same for the shared queue.
   */
  const retryTimers = new Set<NodeJS.Timeout>();
  let closing = false;
  const retryLater = (id: string, ms: number): void => {
    if (closing) return;
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      repo.get(id).then(
        (t) => (t && !isTerminal(t.status) ? queue.add(id, Number(t.priority)) : undefined),
        () => retryLater(id, ms),
      );
    }, ms);
    timer.unref();
    retryTimers.add(timer);
  };
  const runTask = async (id: string): Promise<void> => {
    const outcome = await engine.run(id);
    if (outcome && queue.kind === 'local') retryLater(id, outcome.retryAfterMs);
    // A shared queue's job taken as this instance's stop began (its worker was already waiting
    // on Redis for it), or a run the stop cut short: given back, for another instance to run now
    // rather than after the re-queue sweep (added while its job is active, it is queued once the job ends).
    if (engine.isClosing && queue.kind === 'bullmq') {
      const t = await repo.get(id).catch(() => undefined);
      if (t && !isTerminal(t.status)) await withTimeout(queue.add(id, Number(t.priority)), REQUEUE_ADD_MS, 'the task queue (Redis)').catch(() => undefined);
    }
  };

  const gauge = new Gauge({
    name: 'cco_pipeline_tasks_active',
    help: 'Pipeline tasks running in this daemon',
    registers: [ctx.metrics],
    collect() {
      this.set(engine.activeCount);
    },
  });
  void gauge;
  new Gauge({
    name: 'cco_pipeline_tasks_waiting',
    help: 'Pipeline tasks queued and not started yet (the shared queue in team mode)',
    registers: [ctx.metrics],
    async collect() {
      const n = await queue.depth().catch(() => undefined);
      if (n !== undefined) {
        this.set(n);
        backlog.check(n);
      }
    },
  });

  return {
    name: 'pipeline',
    register(app: FastifyInstance) {
      if (cfg.enabled) registerPipelineRoutes(app, api);
    },
    async start() {
      if (!cfg.enabled) return;
      queue.start(runTask);
      started = true;
      // Resume: every task not finished when the daemon stopped runs again from its stage. Not
      // waited for: with Redis away the daemon would not finish starting (the sweep tries again).
      void requeue().then(
        (n) => n && logger.info({ tasks: n }, `resuming ${n} unfinished pipeline task(s)`),
        (e: unknown) => logger.warn({ err: (e as Error).message }, 'unfinished pipeline tasks not queued yet; the re-queue sweep tries again'),
      );
      if (queue.kind === 'bullmq') {
        // With Redis, a job can be lost with an instance or a Redis outage: sweep now and then.
        sweepTimer = setInterval(() => void requeue().catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'pipeline re-queue sweep failed')), 30_000);
        sweepTimer.unref();
      }
      void cleanup();
      cleanupTimer = setInterval(() => void cleanup(), cfg.cleanup_interval_minutes * 60_000);
      cleanupTimer.unref();
    },
    async health(): Promise<PartHealth> {
      if (!cfg.enabled) return { status: 'disabled' };
      try {
        const [waiting, unwritable] = await Promise.all([withTimeout(queue.depth(), 2000, 'the task queue'), folders.problem()]);
        const status = unwritable ? 'degraded' : started ? 'ok' : 'starting';
        return { status, queue: queue.kind, active: engine.activeCount, waiting, concurrency: cfg.concurrency, ...(unwritable ? { error: `${unwritable}; until then every task fails when it writes its files` } : {}) };
      } catch (e) {
        return { status: 'degraded', queue: queue.kind, error: (e as Error).message };
      }
    },
    stopping() {
      // no more tasks taken (a stopping engine declines them: a shared queue's jobs would be used
      // up without running, while other instances waited for the sweep), and runs stop now
      // (their gateway calls are requests the daemon would otherwise wait for)
      queue.pause();
      engine.close();
    },
    async close() {
      closing = true;
      for (const t of retryTimers) clearTimeout(t);
      if (cleanupTimer) clearInterval(cleanupTimer);
      if (sweepTimer) clearInterval(sweepTimer);
      engine.close();
      await queue.close();
    },
    submit: (input, by) => {
      if (!cfg.enabled) throw new AppError(503, 'pipeline_disabled', 'The pipeline is disabled; set [pipeline] enabled = true in daemon.toml');
      return api.submit(input, by);
    },
    getTask: async (id, by) => {
      if (!by) return api.getTask(id);
      try {
        return await api.getTaskOrThrow(id, by);
      } catch (e) {
        if ((e as { status?: number }).status === 404) return undefined;
        throw e;
      }
    },
    listTasks: (q) => api.listTasks(q),
    listAgents: () => api.listAgents(),
    cancel: (id) => api.cancel(id),
    retry: (id, by) => {
      if (!cfg.enabled) throw new AppError(503, 'pipeline_disabled', 'The pipeline is disabled; set [pipeline] enabled = true in daemon.toml');
      return api.retry(id, by);
    },
  };
}

/** How long a check of the workspace folders is reused: /health is polled, the folders rarely change. */
const FOLDER_CHECK_TTL_MS = 5000;

/** `check()` at most once per `ttlMs` (callers meanwhile share its answer, or the one in flight). */
function cachedCheck<T>(check: () => Promise<T>, ttlMs: number): { problem(): Promise<T> } {
  let last: { at: number; answer: Promise<T> } | undefined;
  return {
    problem() {
      const now = Date.now();
      if (!last || now - last.at >= ttlMs) last = { at: now, answer: check() };
      return last.answer;
    },
  };
}

/** How long a re-queue waits for one add: Redis may be away (BullMQ waits for it); the sweep tries again. */
const REQUEUE_ADD_MS = 5000;
