import { afterEach, describe, expect, it } from 'vitest';
import { defaultDaemonConfig } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { hooksSection } from '../config/sections/hooks.js';
import { sidecarSection } from '../config/sections/sidecar.js';
import type { Logger } from '../core/logger.js';
import { startDaemon } from '../daemon/daemon.js';
import type { RunningDaemon } from '../daemon/daemon.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { waitFor } from '../testing/wait-for.js';
import { DAY_MS, RetentionTimer, rowsWithin } from './retention.js';
import type { PruneOptions } from './retention.js';
import { openStore } from './store.js';

const logger = { info() {}, warn() {} } as unknown as Logger;

describe('retention settings', () => {
  it('default to 30 days, take 0 (keep everything) and refuse what is no whole number of days', () => {
    expect(hooksSection.parse({}).retention_days).toBe(30);
    expect(sidecarSection.parse({})).toMatchObject({ event_retention_days: 30, agent_retention_days: 30 });
    expect(hooksSection.parse({ retention_days: 0 }).retention_days).toBe(0);
    expect(hooksSection.safeParse({ retention_days: -1 }).success).toBe(false);
    expect(hooksSection.safeParse({ retention_days: 1.5 }).success).toBe(false);
    expect(sidecarSection.safeParse({ event_retention_days: -1 }).success).toBe(false);
    expect(sidecarSection.safeParse({ agent_retention_days: '30' }).success).toBe(false);
  });
});

describe('rowsWithin', () => {
  it('takes the oldest rows up to the byte budget, and always one', () => {
    expect(rowsWithin([10, 10, 10], 25)).toBe(2);
    expect(rowsWithin([10, 10, 10], 30)).toBe(3);
    expect(rowsWithin([100, 1], 25)).toBe(1);
    expect(rowsWithin([], 25)).toBe(0);
  });
});

describe('RetentionTimer', () => {
  const timers: RetentionTimer[] = [];
  afterEach(async () => {
    for (const t of timers.splice(0)) await t.stop();
  });

  it('prunes at start and then every interval, with the cutoff of each task; 0 days never runs; the timer holds no process open', async () => {
    const calls: { name: string; before: number }[] = [];
    const task = (name: string, days: number) => ({ name, days, prune: (before: number) => (calls.push({ name, before }), Promise.resolve(1)) });
    const now = 1_000 * DAY_MS;
    const timer = new RetentionTimer([task('a', 30), task('never', 0), task('b', 2)], { logger, intervalMs: 20, now: () => now });
    timers.push(timer);
    timer.start();
    expect(calls).toEqual([{ name: 'a', before: now - 30 * DAY_MS }]); // the first pass began at once
    await waitFor(() => calls.length >= 6);
    expect(calls.some((c) => c.name === 'never')).toBe(false);
    expect(calls.filter((c) => c.name === 'b').every((c) => c.before === now - 2 * DAY_MS)).toBe(true);
    expect((timer as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    await timer.stop();
    const n = calls.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(calls.length).toBe(n);
  });

  it('stop waits for the pass in progress, which stops after its batch; a failing task does not stop the others', async () => {
    let batches = 0;
    let seenB = false;
    const slow = {
      name: 'slow',
      days: 1,
      async prune(_before: number, o: PruneOptions) {
        while (!o.stopped?.()) {
          batches++;
          await new Promise((r) => setTimeout(r, 5));
        }
        return batches;
      },
    };
    const failing = { name: 'failing', days: 1, prune: () => Promise.reject(new Error('no store')) };
    const b = { name: 'b', days: 1, prune: () => ((seenB = true), Promise.resolve(0)) };
    const ok = new RetentionTimer([failing, b], { logger });
    expect(await ok.runOnce()).toEqual({ b: 0 });
    expect(seenB).toBe(true);

    const timer = new RetentionTimer([slow], { logger });
    timers.push(timer);
    timer.start();
    await waitFor(() => batches >= 3);
    await timer.stop();
    const n = batches;
    await new Promise((r) => setTimeout(r, 30));
    expect(batches).toBe(n);
  });
});

describe('retention in the daemon (real daemon on port 0, SQLite)', () => {
  let daemon: RunningDaemon | undefined;
  let env: ReturnType<typeof tempCcoEnv> | undefined;
  afterEach(async () => {
    await daemon?.close();
    env?.cleanup();
    daemon = undefined;
    env = undefined;
  });

  it('a start prunes old hook events, sidecar events and agents, and loads only the agents kept', async () => {
    env = tempCcoEnv();
    const paths = resolvePaths(env.env);
    const now = Date.now();
    const old = now - 40 * DAY_MS;
    // a home with history: what an earlier daemon left
    const store = await openStore({ sqlitePath: paths.databaseFile });
    const hook = (received_at: number, tool: string) => ({ received_at, event: 'PostToolUse', session_id: 's', tool_name: tool, tool_use_id: null, agent_id: null, agent_type: null, cwd: null, decision: null, payload: '{}' });
    await store.db.insertInto('hook_events').values([hook(old, 'old-1'), hook(old, 'old-2'), hook(now, 'recent')]).execute();
    const ev = (created_at: number, topic: string) => ({ event_type: 'done', topic, publisher: 'p', agent_id: 'a', issue_id: null, data: '{}', created_at });
    await store.db.insertInto('sidecar_events').values([ev(old, 'old-1'), ev(old, 'old-2'), ev(now, 'recent'), ev(old, 'newest')]).execute();
    const agent = (agent_id: string, at: number, expires_at: number, status: string) => ({ agent_id, agent_type: 'tester', issues: '["i"]', task: null, status, created_at: at, updated_at: at, expires_at });
    await store.db
      .insertInto('sidecar_agents')
      .values([...Array.from({ length: 20 }, (_v, i) => agent(`old-${i}`, old, old + 3600_000, 'completed')), agent('recent', now, now + 3600_000, 'completed')])
      .execute();
    await store.close();

    const base = defaultDaemonConfig();
    daemon = await startDaemon({ env: env.env, paths, config: { ...base, daemon: { ...base.daemon, port: 0, log_level: 'warn' }, sidecar: { ...base.sidecar, port: 0 } } });
    const db = daemon.store.db;
    await waitFor(async () => (await db.selectFrom('sidecar_agents').select('agent_id').execute()).length === 1 && (await db.selectFrom('hook_events').select('id').execute()).length === 1 && (await db.selectFrom('sidecar_events').select('id').execute()).length === 2);
    // the figures count the kept agent only (the load alone: retention.services.test.ts)
    const status = (await (await fetch(`${daemon.modules.sidecar.url()}/status`)).json()) as { agents: { completed: number } };
    expect(status.agents.completed).toBe(1);
    expect((await db.selectFrom('hook_events').select('tool_name').execute()).map((r) => r.tool_name)).toEqual(['recent']);
    expect((await db.selectFrom('sidecar_events').select('topic').orderBy('id').execute()).map((r) => r.topic)).toEqual(['recent', 'newest']);
  });
});
