import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { daemonConfigSchema } from '../config/daemon-config.js';
import { createLogger } from '../core/logger.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeItem, FakeProvider, RecordedRequest } from '../fake-provider/server.js';
import { Hub } from '../hub/hub.js';
import type { Dialect } from '../store/store.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { resolveStageAgents } from './agents.js';
import { demoPipelineReply } from './demo-responder.js';
import { PipelineEngine } from './engine.js';
import type { LeaseTimes } from './lease.js';
import { newOwnerId, ownerGoneHere } from './lease.js';
import { gatewayClient } from './llm-client.js';
import { stageOfSystemPrompt } from './prompts.js';
import { PipelineRepo } from './repo.js';
import { Workspace } from './workspace.js';
import { waitFor } from '../testing/wait-for.js';

// Two engines (two instances) on one store: a task's lease decides which one runs it.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const stageOf = (r: RecordedRequest) => stageOfSystemPrompt((r.body as { system?: unknown }).system);
const REQUIREMENT = 'Build a command line tool that converts Celsius to Fahrenheit and back';

/** A repo whose heartbeat can fail (this instance's link to the store is down) and whose reads can be watched. */
class TestRepo extends PipelineRepo {
  renewFails = false;
  onGet: (() => void) | undefined;
  override async renew(id: string, owner: string): Promise<boolean> {
    if (this.renewFails) throw new Error('connect ECONNREFUSED (test)');
    return super.renew(id, owner);
  }
  override async get(id: string) {
    const r = await super.get(id);
    this.onGet?.();
    return r;
  }
}

interface Instance {
  engine: PipelineEngine;
  repo: TestRepo;
  logs: { level: string; msg: string; task_id?: string; stage?: string }[];
}

async function setup(dialect: Dialect) {
  const store: TestStore = await openTestStore(dialect);
  cleanups.push(() => store.cleanup());
  const env = tempCcoEnv();
  cleanups.push(() => env.cleanup());
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const fake: FakeProvider = await startFakeProvider({
    responder: async (r): Promise<FakeItem> => {
      if (stageOf(r) === 'implementation' && gate) await gate;
      return demoPipelineReply(r) ?? { text: '' };
    },
  });
  cleanups.push(() => fake.close());
  const cfg = daemonConfigSchema.parse({ pipeline: { request_timeout_ms: 10_000 } }).pipeline;
  const workspace = new Workspace(join(env.root, 'workspace'), join(env.root, 'archive'));
  const instance = (name: string, lease: LeaseTimes): Instance => {
    const repo = new TestRepo(store.store);
    const { logger, buffer } = createLogger({ level: 'info' });
    const logs: Instance['logs'] = [];
    buffer.subscribe((rec) => logs.push(rec as unknown as Instance['logs'][number]));
    const engine = new PipelineEngine({ repo, workspace, client: gatewayClient({ baseUrl: () => fake.url, timeoutMs: 10_000 }), hub: new Hub(), logger, cfg, agents: resolveStageAgents(cfg, catalogOf([])), instance: name, lease });
    cleanups.push(() => engine.close());
    return { engine, repo, logs };
  };
  return {
    store,
    fake,
    instance,
    /** Holds every implementation call until `release` (or until the call is aborted). */
    holdImplementation() {
      gate = new Promise<void>((r) => (open = r));
    },
    release() {
      gate = undefined;
      open?.();
    },
    implCalls: () => fake.requests.filter((r) => stageOf(r) === 'implementation').length,
  };
}


const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
};

describe('ownerGoneHere', () => {
  it('knows an owner of this machine whose process ended; nothing about any other', () => {
    const me = newOwnerId();
    expect(ownerGoneHere(me)).toBe(false);
    const [host, , tag] = me.split(':');
    expect(ownerGoneHere(`${host}:${deadPid()}:${tag}`)).toBe(true);
    // another machine or pid namespace, or an owner name of an older version: only its lease counts
    expect(ownerGoneHere(`${host}:${deadPid()}:0000000000.${tag?.split('.')[1]}.abc`)).toBe(false);
    expect(ownerGoneHere(`${host}:${deadPid()}`)).toBe(false);
  });
});

describe.each(testDialects())('task leases on %s', (dialect) => {
  const short: LeaseTimes = { ttlMs: 1500, renewMs: 200 };

  it('does not take over a task whose lease is renewed, even past the lease time', async () => {
    const s = await setup(dialect);
    const a = s.instance('host-a:1:x', short);
    const b = s.instance('host-b:2:y', short);
    const task = await a.engine.create({ requirement: REQUIREMENT, priority: 5 });
    s.holdImplementation();
    const running = a.engine.run(task.id);
    await waitFor(() => s.implCalls() > 0 || undefined);
    // longer than the lease: A's heartbeat keeps it fresh
    await new Promise((r) => setTimeout(r, 2 * short.ttlMs));
    const refused = await b.engine.run(task.id);
    expect(refused?.retryAfterMs).toBeGreaterThan(0);
    expect(refused?.retryAfterMs).toBeLessThanOrEqual(short.ttlMs + short.renewMs);
    expect(b.logs.some((l) => l.msg.includes('is running on host-a:1:x') && l.msg.includes('not taking it over'))).toBe(true);
    expect(s.implCalls()).toBe(1);
    s.release();
    await running;
    const t = await a.repo.get(task.id);
    expect(t).toMatchObject({ status: 'completed', owner: 'host-a:1:x' });
    expect((await a.repo.stages(task.id)).find((r) => r.stage === 'implementation')?.attempts).toBe(1);
    expect(s.implCalls()).toBe(1);
  });

  it('takes over a task whose lease expired, or whose owner process is gone', async () => {
    const s = await setup(dialect);
    const b = s.instance('host-b:2:y', short);
    // an instance that died mid-task on another machine: its lease is older than the lease time
    const t1 = await b.engine.create({ requirement: REQUIREMENT, priority: 5 });
    await s.store.store.db.updateTable('pipeline_tasks').set({ status: 'running', owner: 'host-gone:7:z', started_at: Date.now() - 60_000, updated_at: Date.now() - short.ttlMs - 100 }).where('id', '=', t1.id).execute();
    expect(await b.engine.run(t1.id)).toBeUndefined();
    expect(await b.repo.get(t1.id)).toMatchObject({ status: 'completed', owner: 'host-b:2:y' });
    expect(b.logs.some((l) => l.msg === `task ${t1.id} resumed at the first stage`)).toBe(true);

    // the same lease, fresh: left alone
    const t2 = await b.engine.create({ requirement: REQUIREMENT, priority: 5 });
    await s.store.store.db.updateTable('pipeline_tasks').set({ status: 'running', owner: 'host-gone:7:z', started_at: Date.now(), updated_at: Date.now() }).where('id', '=', t2.id).execute();
    expect((await b.engine.run(t2.id))?.retryAfterMs).toBeGreaterThan(0);
    expect(await b.repo.get(t2.id)).toMatchObject({ status: 'running', owner: 'host-gone:7:z' });

    // fresh, but its owner is a process of this machine that was killed (a daemon restarted after kill -9)
    const [host, , tag] = newOwnerId().split(':');
    const killed = `${host}:${deadPid()}:${tag}`;
    await s.store.store.db.updateTable('pipeline_tasks').set({ owner: killed }).where('id', '=', t2.id).execute();
    expect(await b.engine.run(t2.id)).toBeUndefined();
    expect(await b.repo.get(t2.id)).toMatchObject({ status: 'completed', owner: 'host-b:2:y' });
  });

  it('of instances racing for an expired lease, one gets the task', async () => {
    const s = await setup(dialect);
    const a = s.instance('host-a:1:x', short);
    const task = await a.engine.create({ requirement: REQUIREMENT, priority: 5 });
    await s.store.store.db.updateTable('pipeline_tasks').set({ status: 'running', owner: 'host-gone:7:z', started_at: 1, updated_at: 1 }).where('id', '=', task.id).execute();
    const now = Date.now();
    const wins = await Promise.all(['i1', 'i2', 'i3', 'i4'].map((owner) => a.repo.claim(task.id, owner, { startedAt: 1, now, ttlMs: short.ttlMs })));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('a run whose task was taken over stops without writing its results', async () => {
    const s = await setup(dialect);
    const a = s.instance('host-a:1:x', { ttlMs: 60_000, renewMs: 30_000 });
    const task = await a.engine.create({ requirement: REQUIREMENT, priority: 5 });
    s.holdImplementation();
    const running = a.engine.run(task.id);
    await waitFor(() => s.implCalls() > 0 || undefined);
    // Right after A's once-a-second check: another instance takes the task (A's lease had
    // expired while its link to the store was down), and A's call answers before A checks again.
    await new Promise<void>((r) => (a.repo.onGet = r));
    a.repo.onGet = undefined;
    expect(await new PipelineRepo(s.store.store).claim(task.id, 'host-b:2:y', { startedAt: Date.now(), now: Date.now() + 120_000, ttlMs: 60_000 })).toBe(true);
    s.release();
    // offered again later: by then B has it (and the offer is a no-op) or B is gone
    expect(await running).toMatchObject({ retryAfterMs: 60_000 });
    const impl = (await a.repo.stages(task.id)).find((r) => r.stage === 'implementation');
    // A's calls and tokens are not written over the stage, nor its output
    expect(impl).toMatchObject({ status: 'running', calls: 0, input_tokens: 0, output: null });
    expect(await a.repo.get(task.id)).toMatchObject({ status: 'running', owner: 'host-b:2:y' });
    await waitFor(() => a.logs.some((l) => l.level === 'warn') || undefined);
    const msgs = a.logs.map((l) => l.msg);
    expect(msgs).toContain(`task ${task.id}: this instance lost it during implementation (host-b:2:y took it over); stopped without writing its results`);
    expect(msgs.some((m) => m.includes('cancelled'))).toBe(false);
  });

  it('stops its own run when the lease cannot be renewed, before another instance may take the task', async () => {
    const s = await setup(dialect);
    const lease: LeaseTimes = { ttlMs: 4000, renewMs: 2000 };
    const a = s.instance('host-a:1:x', lease);
    const b = s.instance('host-b:2:y', lease);
    const task = await a.engine.create({ requirement: REQUIREMENT, priority: 5 });
    s.holdImplementation();
    const running = a.engine.run(task.id);
    await waitFor(() => s.implCalls() > 0 || undefined);
    a.repo.renewFails = true;
    // offered again once the lease has run out (without a Redis queue nothing else would)
    expect(await running).toEqual({ retryAfterMs: lease.ttlMs });
    // A stopped before its last renewal was a lease old: no other instance could have the task yet
    const stoppedAt = Date.now();
    const renewed = Number((await a.repo.get(task.id))?.updated_at);
    expect(stoppedAt - renewed).toBeLessThan(lease.ttlMs);
    expect(await b.engine.run(task.id)).toMatchObject({ retryAfterMs: expect.any(Number) });
    await waitFor(() => s.fake.disconnects > 0 || undefined);
    await waitFor(() => a.logs.some((l) => l.level === 'warn' && /lost it during implementation \(its lease could not be renewed for \d+ s/.test(l.msg)) || undefined);
    s.release();
    // B takes it once the lease has expired, and finishes it
    await waitFor(async () => (await b.engine.run(task.id)) === undefined || undefined);
    expect(await b.repo.get(task.id)).toMatchObject({ status: 'completed', owner: 'host-b:2:y' });
    expect((await b.repo.stages(task.id)).find((r) => r.stage === 'implementation')).toMatchObject({ attempts: 2, calls: 1 });
  });

  it('alone (no Redis queue): a run that lost its lease while the store was away runs again once it is back', async () => {
    const s = await setup(dialect);
    const lease: LeaseTimes = { ttlMs: 1500, renewMs: 500 };
    const a = s.instance('host-a:1:x', lease);
    const task = await a.engine.create({ requirement: REQUIREMENT, priority: 5 });
    s.holdImplementation();
    const running = a.engine.run(task.id);
    await waitFor(() => s.implCalls() > 0 || undefined);
    a.repo.renewFails = true;
    const outcome = await running;
    expect(outcome).toEqual({ retryAfterMs: lease.ttlMs });
    a.repo.renewFails = false;
    s.release();
    // what the module does with the outcome: offer it again after retryAfterMs
    await new Promise((r) => setTimeout(r, outcome?.retryAfterMs));
    await waitFor(async () => (await a.engine.run(task.id)) === undefined || undefined);
    expect(await a.repo.get(task.id)).toMatchObject({ status: 'completed' });
  });

  it('a stage whose write fails (the store is down) is named in one warning', async () => {
    const s = await setup(dialect);
    const a = s.instance('host-a:1:x', short);
    const task = await a.engine.create({ requirement: REQUIREMENT, priority: 5 });
    a.repo.updateStageOwned = async () => {
      throw new Error('Connection terminated unexpectedly');
    };
    const outcome = await a.engine.run(task.id);
    expect(outcome?.retryAfterMs).toBe(short.ttlMs);
    const warnings = await waitFor(() => {
      const w = a.logs.filter((l) => l.level === 'warn');
      return w.length ? w : undefined;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(warnings.map((w) => [w.task_id, w.stage, w.msg])).toEqual([[task.id, 'analysis', `task ${task.id} stopped during analysis: its state could not be read or written: Connection terminated unexpectedly; it runs again once the store answers`]]);
  });
});
