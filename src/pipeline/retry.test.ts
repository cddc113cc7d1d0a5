import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { daemonConfigSchema } from '../config/daemon-config.js';
import { createLogger } from '../core/logger.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { RecordedRequest } from '../fake-provider/server.js';
import { Hub } from '../hub/hub.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { openTestStore, testDialects } from '../testing/test-store.js';
import { waitFor } from '../testing/wait-for.js';
import { resolveStageAgents } from './agents.js';
import { demoPipelineReply } from './demo-responder.js';
import { PipelineEngine } from './engine.js';
import type { RetryAnswer } from './engine.js';
import { gatewayClient } from './llm-client.js';
import { stageOfSystemPrompt } from './prompts.js';
import { LocalQueue } from './queue.js';
import { PipelineRepo } from './repo.js';
import type { TaskUpdateMessage } from './types.js';
import { Workspace } from './workspace.js';

// A retry asked the moment a task failed, while its run is still archiving it (the engine alone).

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const stageOf = (r: RecordedRequest) => stageOfSystemPrompt((r.body as { system?: unknown }).system);

/** A repo whose recording of an archive waits for `open()`. */
class SlowArchiveRepo extends PipelineRepo {
  gate: Promise<void> | undefined;
  override async markArchived(id: string, at: number, path: string): Promise<boolean> {
    await this.gate;
    return super.markArchived(id, at, path);
  }
}

describe.each(testDialects())('PipelineEngine.retry on %s', (dialect) => {
  it('waits for the end of the failed run here (its archive) before the task starts over', async () => {
    const store = await openTestStore(dialect);
    cleanups.push(() => store.cleanup());
    const env = tempCcoEnv();
    cleanups.push(() => env.cleanup());
    const fake = await startFakeProvider({ responder: (r) => (stageOf(r) === 'integration' ? { fault: 'status', status: 500 } : (demoPipelineReply(r) ?? { text: '' })) });
    cleanups.push(() => fake.close());
    const cfg = daemonConfigSchema.parse({ pipeline: { request_timeout_ms: 5000, call_retries: 0 } }).pipeline;
    const repo = new SlowArchiveRepo(store.store);
    const hub = new Hub();
    const engine = new PipelineEngine({ repo, workspace: new Workspace(join(env.root, 'workspace'), join(env.root, 'archive')), client: gatewayClient({ baseUrl: () => fake.url, timeoutMs: 5000 }), hub, logger: createLogger({ level: 'info' }).logger, cfg, agents: resolveStageAgents(cfg, catalogOf([])), instance: 'host:1:test' });
    cleanups.push(() => engine.close());

    let open: () => void = () => undefined;
    repo.gate = new Promise<void>((r) => (open = r));
    let retried: Promise<RetryAnswer> | undefined;
    hub.subscribe((m) => {
      const d = m.data as TaskUpdateMessage;
      if (m.type === 'task_update' && d.event === 'failed') retried = engine.retry(d.task_id);
    });
    const task = await engine.create({ requirement: 'Build a command line tool that prints the time in Tokyo', priority: 5 });
    const run = engine.run(task.id);
    await waitFor(() => retried !== undefined || undefined);
    let answered = false;
    void retried?.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 150));
    // the failed run is still recording its archive: the retry has not touched the task yet
    expect(answered).toBe(false);
    expect((await repo.get(task.id))?.status).toBe('failed');
    open();
    await run;
    expect(await retried).toMatchObject({ retried: true, from: 'integration', count: 1 });
    // queued again, with no archive named: the rerun's end archives it anew
    expect(await repo.get(task.id)).toMatchObject({ status: 'queued', archived_at: null, archive_path: null });
    // finished stages kept (and their verdict), the failed one pending again
    expect((await repo.stages(task.id)).map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'pending']);
    expect(await repo.verdicts([task.id])).toEqual(new Map([[task.id, { passed: true, score: 80, summary: 'The files match the planned structure.' }]]));
  });
});

describe('LocalQueue', () => {
  it('runs a task added while it was still running once that run is over', async () => {
    const runs: string[] = [];
    let finish: () => void = () => undefined;
    const q = new LocalQueue(1, createLogger({ level: 'info' }).logger);
    q.start(async (id) => {
      runs.push(id);
      if (runs.length === 1) await new Promise<void>((r) => (finish = r));
    });
    await q.add('t_a', 5);
    await waitFor(() => runs.length > 0 || undefined);
    await q.add('t_a', 5);
    expect(runs).toEqual(['t_a']);
    finish();
    await waitFor(() => runs.length > 1 || undefined);
    expect(runs).toEqual(['t_a', 't_a']);
    await q.close();
  });
});
