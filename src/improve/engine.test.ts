import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { improveSection } from '../config/sections/improve.js';
import type { ImproveConfig } from '../config/sections/improve.js';
import { silentLogger } from '../core/logger.js';
import { Hub } from '../hub/hub.js';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { ImprovementEngine } from './engine.js';
import { createCycleMetrics } from './metrics.js';
import { ImproveRepo } from './repo.js';
import { InMemoryTelemetry } from './synthetic.js';
import type { RequestRecord } from './synthetic.js';
import type { CycleView, RoutingConfig } from './types.js';

const ROUTE = '^claude-';
const CONFIG: RoutingConfig = {
  routes: [
    { pattern: ROUTE, provider: 'anthropic', timeout_ms: 30_000, retries: 2 },
    { pattern: '^gpt-', provider: 'openai', timeout_ms: 60_000 },
  ],
};

/** n requests on a route spread over the last `spanMs` before `end`, `timeoutShare` of them timing out. */
function traffic(route: string, n: number, timeoutShare: number, end: number, spanMs: number): RequestRecord[] {
  const cut = Math.round(n * timeoutShare);
  return Array.from({ length: n }, (_, i) => ({
    ts: end - spanMs + Math.floor(((i + 1) * spanMs) / n) - 1,
    route,
    latency_ms: i < cut ? 30_000 : 800 + (i % 10) * 50,
    status: i < cut ? ('timeout' as const) : ('ok' as const),
  }));
}

/** n requests on a route that all fail (not by timeout). */
function failing(route: string, n: number, end: number, spanMs: number): RequestRecord[] {
  return Array.from({ length: n }, (_, i) => ({ ts: end - spanMs + Math.floor(((i + 1) * spanMs) / n) - 1, route, latency_ms: 50, status: 'error' as const }));
}

/** The shipped config's shape: every route has a name; analytics records the pattern. */
const NAMED: RoutingConfig = { routes: [{ name: 'dead', pattern: '^dead-', provider: 'dead', timeout_ms: 2000, retries: 0 }] };

async function waitFor(repo: ImproveRepo, id: string, pred: (c: CycleView) => boolean, ms = 8000): Promise<CycleView> {
  const end = Date.now() + ms;
  for (;;) {
    const c = await repo.getCycle(id);
    if (c && pred(c)) return c;
    if (Date.now() > end) throw new Error(`cycle ${id} stuck: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const dialect of testDialects()) {
  describe(`improvement cycle on synthetic analytics (${dialect})`, () => {
    let ts: TestStore | undefined;
    const engines: ImprovementEngine[] = [];
    afterEach(async () => {
      for (const e of engines.splice(0)) await e.close();
      await ts?.cleanup();
    });

    async function setup(over: Partial<ImproveConfig> = {}, config: RoutingConfig = CONFIG) {
      ts = await openTestStore(dialect);
      const repo = new ImproveRepo(ts.store);
      const telemetry = new InMemoryTelemetry(structuredClone(config));
      const settings = improveSection.parse({ monitoring_duration_seconds: 1.5, monitoring_interval_seconds: 0.05, min_requests: 20, ...over });
      const hub = new Hub();
      const registry = new Registry();
      const engine = new ImprovementEngine({ repo, gateway: telemetry, settings: () => settings, logger: silentLogger(), hub, metrics: createCycleMetrics(registry) });
      engines.push(engine);
      return { repo, telemetry, engine, hub, settings, registry };
    }

    it('raises the timeout of a route whose requests time out, then rolls back when the change degrades', async () => {
      const { repo, telemetry, engine, hub, registry } = await setup();
      const now = Date.now();
      telemetry.add(...traffic(ROUTE, 100, 0.2, now, 3600_000), ...traffic('^gpt-', 100, 0, now, 3600_000));
      const started = await engine.trigger({ windowHours: 1, by: 'test' });
      expect(started.status).toBe('in_progress');

      const monitoring = await waitFor(repo, started.id, (c) => c.phase === 'monitoring');
      expect(monitoring.opportunities).toEqual([expect.objectContaining({ route: ROUTE, kind: 'timeouts', value: 0.2 })]);
      expect(monitoring.proposal?.changes).toEqual([expect.objectContaining({ route: ROUTE, field: 'timeout_ms', from: 30_000, to: 45_000 })]);
      expect(telemetry.config.routes[0]?.timeout_ms).toBe(45_000);

      // Injected degradation after the change: half the requests now time out.
      telemetry.add(...traffic(ROUTE, 40, 0.5, Date.now() + 1, 1));
      const done = await waitFor(repo, started.id, (c) => c.status !== 'in_progress');
      expect(done.status).toBe('rolled_back');
      expect(done.outcome?.checks).toContainEqual(expect.objectContaining({ route: ROUTE, metric: 'timeout_rate', before: 0.2, after: 0.5, degraded: true }));
      expect(telemetry.config).toEqual(CONFIG);

      // History: the version in force, the improvement, the rollback to the former.
      const versions = (await repo.listVersions()).reverse();
      expect(versions.map((v) => v.kind)).toEqual(['baseline', 'improvement', 'rollback']);
      const [base, improved, rollback] = await Promise.all(versions.map((v) => repo.getVersion(v.id)));
      expect(base?.config).toEqual(CONFIG);
      expect(improved?.config.routes[0]?.timeout_ms).toBe(45_000);
      expect(improved?.created_by).toContain('triggered by test');
      expect(rollback?.config).toEqual(base?.config);
      expect(rollback?.reason).toMatch(/ROLLBACK_DEGRADATION_THRESHOLD=0.1: \^claude- timeout_rate 0.2 -> 0.5/);
      expect(done.previous_version).toBe(base?.id);
      expect(done.applied_version).toBe(improved?.id);
      expect(done.rollback_version).toBe(rollback?.id);
      const kinds = (await repo.events(started.id)).map((e) => e.kind);
      expect(kinds).toEqual(['triggered', 'analyzed', 'proposed', 'applied', 'rolled_back']);
      expect(hub.recent({ types: ['improvement_cycle'] }).map((m) => (m.data as { event: string }).event)).toEqual(kinds);
      const metrics = await registry.metrics();
      expect(metrics).toContain('opportunities_identified_total{kind="timeouts"} 1');
      expect(metrics).toContain('improvement_cycles_total{status="rolled_back"} 1');
      expect(metrics).toContain('cycle_duration_seconds_count{status="rolled_back"} 1');
    });

    it('changes a named route (telemetry keys it by pattern)', async () => {
      const { repo, telemetry, engine } = await setup({ monitoring_duration_seconds: 60, error_frequency_threshold: 5 }, NAMED);
      telemetry.add(...failing('^dead-', 30, Date.now(), 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      const monitoring = await waitFor(repo, c.id, (x) => x.phase === 'monitoring' || x.status !== 'in_progress');
      expect(monitoring.proposal?.changes).toEqual([expect.objectContaining({ route: '^dead-', field: 'retries', from: 0, to: 1 })]);
      expect(telemetry.config.routes[0]).toMatchObject({ name: 'dead', retries: 1 });
    });

    it('does not stack overlapping cycles on one field, and cancelling them all restores the config', async () => {
      const { repo, telemetry, engine } = await setup({ monitoring_duration_seconds: 60, error_frequency_threshold: 5 }, NAMED);
      telemetry.add(...failing('^dead-', 30, Date.now(), 3600_000));
      const a = await engine.trigger({ windowHours: 1, by: 'a' });
      await waitFor(repo, a.id, (x) => x.phase === 'monitoring');
      const later = [await engine.trigger({ windowHours: 1, by: 'b' }), await engine.trigger({ windowHours: 1, by: 'd' })];
      for (const c of later) {
        const done = await waitFor(repo, c.id, (x) => x.status !== 'in_progress');
        expect(done).toMatchObject({ status: 'completed', applied_version: null, proposal: { changes: [], skipped: [{ route: '^dead-', field: 'retries', held_by: a.id }] } });
        expect(done.outcome?.verdict).toBe(`no_applicable_change; retries of route ^dead- is held by cycle ${a.id} (in progress)`);
      }
      expect(telemetry.config.routes[0]?.retries).toBe(1);
      await engine.cancel(a.id, 'tester');
      expect(telemetry.config).toEqual(NAMED);
    });

    it('lets only one of two cycles running in lockstep change a field', async () => {
      const { repo, telemetry, engine } = await setup({ monitoring_duration_seconds: 60, error_frequency_threshold: 5 }, NAMED);
      telemetry.add(...failing('^dead-', 30, Date.now(), 3600_000));
      // Both cycles read their telemetry together, then race to propose and apply (a slow apply).
      const read = telemetry.routeStats.bind(telemetry);
      const waiting: (() => void)[] = [];
      let calls = 0;
      telemetry.routeStats = async (w) => {
        calls++;
        if (calls < 4) await new Promise<void>((r) => waiting.push(r));
        else if (calls === 4) for (const r of waiting.splice(0)) r();
        return read(w);
      };
      const apply = telemetry.applyRoutingConfig.bind(telemetry);
      telemetry.applyRoutingConfig = async (c, meta) => {
        await new Promise((r) => setTimeout(r, 30));
        return apply(c, meta);
      };
      const both = await Promise.all([engine.trigger({ windowHours: 1, by: 'a' }), engine.trigger({ windowHours: 1, by: 'b' })]);
      const settled = await Promise.all(both.map((c) => waitFor(repo, c.id, (x) => x.phase === 'monitoring' || x.status !== 'in_progress')));
      expect(settled.map((c) => c.phase).sort()).toEqual(['done', 'monitoring']);
      expect(telemetry.config.routes[0]?.retries).toBe(1);
      const owner = settled.find((c) => c.phase === 'monitoring') as CycleView;
      await engine.cancel(owner.id, 'tester');
      expect(telemetry.config).toEqual(NAMED);
    });

    it('leaves a field alone on rollback when it no longer holds the cycle\'s value, and says so', async () => {
      const { repo, telemetry, engine } = await setup({ monitoring_duration_seconds: 60, error_frequency_threshold: 5 }, NAMED);
      telemetry.add(...failing('^dead-', 30, Date.now(), 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      await waitFor(repo, c.id, (x) => x.phase === 'monitoring');
      (telemetry.config.routes[0] as { retries: number }).retries = 4; // a person edits model-routing.json meanwhile
      const cancelled = await engine.cancel(c.id, 'tester');
      expect(telemetry.config.routes[0]?.retries).toBe(4);
      expect(cancelled).toMatchObject({ status: 'cancelled', rollback_version: null });
      const leftAlone = (await repo.events(c.id)).find((e) => e.kind === 'left_alone');
      expect(leftAlone?.data).toMatchObject({ fields: [{ route: '^dead-', field: 'retries', expected: 1, found: 4 }] });
    });

    it('keeps a change that does not degrade once monitoring ends', async () => {
      const { repo, telemetry, engine } = await setup({ monitoring_duration_seconds: 0.4 });
      const now = Date.now();
      telemetry.add(...traffic(ROUTE, 100, 0.2, now, 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      await waitFor(repo, c.id, (x) => x.phase === 'monitoring');
      telemetry.add(...traffic(ROUTE, 40, 0.025, Date.now() + 1, 1));
      const done = await waitFor(repo, c.id, (x) => x.status !== 'in_progress');
      expect(done.status).toBe('completed');
      expect(done.outcome?.verdict).toBe('kept');
      expect(telemetry.config.routes[0]?.timeout_ms).toBe(45_000);
    });

    it('finds nothing below the thresholds and changes nothing', async () => {
      const { repo, telemetry, engine } = await setup();
      telemetry.add(...traffic(ROUTE, 100, 0.01, Date.now(), 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      const done = await waitFor(repo, c.id, (x) => x.status !== 'in_progress');
      expect(done).toMatchObject({ status: 'completed', opportunities: [], outcome: { verdict: 'no_opportunities' } });
      expect(telemetry.applied).toEqual([]);
    });

    it('cancels a cycle being monitored and undoes its change', async () => {
      const { repo, telemetry, engine } = await setup({ monitoring_duration_seconds: 60 });
      telemetry.add(...traffic(ROUTE, 100, 0.2, Date.now(), 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      await waitFor(repo, c.id, (x) => x.phase === 'monitoring');
      const cancelled = await engine.cancel(c.id, 'tester');
      expect(cancelled).toMatchObject({ status: 'cancelled', error: 'cancelled by tester' });
      expect(cancelled.rollback_version).not.toBeNull();
      expect(telemetry.config).toEqual(CONFIG);
      await expect(engine.cancel(c.id, 'tester')).rejects.toMatchObject({ status: 409 });
      await expect(engine.cancel('cyc_nope_00000000', 'tester')).rejects.toMatchObject({ status: 404 });
    });

    it('runs at most MAX_CONCURRENT_IMPROVEMENTS cycles at once', async () => {
      const { telemetry, engine } = await setup({ monitoring_duration_seconds: 60, max_concurrent_improvements: 1 });
      telemetry.add(...traffic(ROUTE, 100, 0.2, Date.now(), 3600_000));
      const [a, b] = await Promise.allSettled([engine.trigger({ windowHours: 1, by: 'a' }), engine.trigger({ windowHours: 1, by: 'b' })]);
      expect(a.status).toBe('fulfilled');
      expect(b).toMatchObject({ status: 'rejected', reason: { status: 409, code: 'too_many_improvements' } });
    });

    it('after a restart resumes a cycle being monitored and marks one caught before applying', async () => {
      const { repo, telemetry, engine, settings } = await setup({ monitoring_duration_seconds: 1 });
      telemetry.add(...traffic(ROUTE, 100, 0.2, Date.now(), 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      await waitFor(repo, c.id, (x) => x.phase === 'monitoring');
      await engine.close(); // the daemon stops while monitoring
      const stale = await repo.createCycle({ id: 'cyc_stale_00000001', triggeredBy: 'old', reason: null, windowHours: 1, now: Date.now() });
      expect((await repo.getCycle(c.id))?.status).toBe('in_progress');

      const again = new ImprovementEngine({ repo, gateway: telemetry, settings: () => settings, logger: silentLogger() });
      engines.push(again);
      await again.recover();
      expect(await repo.getCycle(stale.id)).toMatchObject({ status: 'interrupted', error: expect.stringContaining('restart') });
      telemetry.add(...traffic(ROUTE, 40, 0.025, Date.now() + 1, 1));
      const done = await waitFor(repo, c.id, (x) => x.status !== 'in_progress');
      expect(done.status).toBe('completed');
      expect((await repo.events(c.id)).map((e) => e.kind)).toContain('resumed');
    });
  });
}

describe('a rollback the gateway refuses', () => {
  it('is reported as failed with the change still in force, never as rolled back', async () => {
    const ts = await openTestStore('sqlite');
    try {
      const repo = new ImproveRepo(ts.store);
      const telemetry = new InMemoryTelemetry(structuredClone(CONFIG));
      const settings = improveSection.parse({ monitoring_duration_seconds: 60, monitoring_interval_seconds: 0.05 });
      const engine = new ImprovementEngine({ repo, gateway: telemetry, settings: () => settings, logger: silentLogger() });
      telemetry.add(...traffic(ROUTE, 100, 0.2, Date.now(), 3600_000));
      const c = await engine.trigger({ windowHours: 1, by: 'test' });
      await waitFor(repo, c.id, (x) => x.phase === 'monitoring');
      telemetry.applyRoutingConfig = async () => {
        throw new Error('routing file is read-only');
      };
      telemetry.add(...traffic(ROUTE, 40, 0.5, Date.now() + 1, 1));
      const done = await waitFor(repo, c.id, (x) => x.status !== 'in_progress' && x.phase === 'done' && x.error !== null && x.status !== 'rolled_back');
      expect(done).toMatchObject({ status: 'failed', error: expect.stringContaining('rollback failed, the change is still in force: routing file is read-only') });
      expect(telemetry.config.routes[0]?.timeout_ms).toBe(45_000);
      await engine.close();
    } finally {
      await ts.cleanup();
    }
  });

  it('at a restart, a cycle whose rollback fails is recorded as failed, and neither keeps the engine from starting nor the other cycles from recovery', async () => {
    const ts = await openTestStore('sqlite');
    try {
      const repo = new ImproveRepo(ts.store);
      const now = Date.now();
      // caught while applying, its change in force; and one caught while analysing
      await repo.createCycle({ id: 'cyc_a_00000001', triggeredBy: 'x', reason: null, windowHours: 1, now });
      await repo.advance('cyc_a_00000001', { phase: 'applying', proposal: JSON.stringify({ source: 'rules', changes: [{ route: ROUTE, field: 'timeout_ms', from: 30_000, to: 45_000, reason: 'r' }] }) });
      await repo.createCycle({ id: 'cyc_b_00000002', triggeredBy: 'x', reason: null, windowHours: 1, now: now + 1 });
      const telemetry = new InMemoryTelemetry({ ...structuredClone(CONFIG), routes: [{ ...structuredClone(CONFIG.routes[0]), timeout_ms: 45_000 }] as typeof CONFIG.routes });
      telemetry.applyRoutingConfig = async () => {
        throw new Error('EACCES: permission denied');
      };
      const engine = new ImprovementEngine({ repo, gateway: telemetry, settings: () => improveSection.parse({}), logger: silentLogger() });
      // was: recover() threw an Error with no message, and the daemon failed to start with "Daemon failed to start: "
      await engine.recover();
      expect(await repo.getCycle('cyc_a_00000001')).toMatchObject({ status: 'failed', error: expect.stringContaining('rollback failed, the change is still in force: EACCES') });
      expect(await repo.getCycle('cyc_b_00000002')).toMatchObject({ status: 'interrupted' });
      await engine.close();
    } finally {
      await ts.cleanup();
    }
  });

  it("a start leaves alone the cycles another live instance of the team runs, and takes over those whose owner stopped marking them alive", async () => {
    const ts = await openTestStore('sqlite');
    try {
      const repo = new ImproveRepo(ts.store);
      const far = 'far-host:4242:0123456789.100.abcdef';
      await repo.createCycle({ id: 'cyc_far_00000001', triggeredBy: 'x', reason: null, windowHours: 1, now: Date.now(), owner: far });
      const telemetry = new InMemoryTelemetry(structuredClone(CONFIG));
      const b = new ImprovementEngine({ repo, gateway: telemetry, settings: () => improveSection.parse({}), logger: silentLogger(), instance: 'near-host:1:0123456789.1.000001', heartbeatMs: 1000 });
      await b.recover();
      // was: marked "interrupted by a restart" while its owner still ran it
      expect(await repo.getCycle('cyc_far_00000001')).toMatchObject({ status: 'in_progress', phase: 'analyzing', owner: far });
      // its owner stops marking it alive (that machine crashed): taken over once the lease is out
      await ts.store.db.updateTable('improve_cycles').set({ updated_at: Date.now() - 10_000 }).where('id', '=', 'cyc_far_00000001').execute();
      await b.recover();
      expect(await repo.getCycle('cyc_far_00000001')).toMatchObject({ status: 'interrupted', owner: b.instance });
      await b.close();
    } finally {
      await ts.cleanup();
    }
  });

  it("never takes over one of its own cycles (a cycle just triggered is in the store a moment before it is among the runners)", async () => {
    const ts = await openTestStore('sqlite');
    try {
      const repo = new ImproveRepo(ts.store);
      const telemetry = new InMemoryTelemetry(structuredClone(CONFIG));
      const e = new ImprovementEngine({ repo, gateway: telemetry, settings: () => improveSection.parse({}), logger: silentLogger(), instance: 'here:1:0123456789.1.000001', heartbeatMs: 1000 });
      // as trigger() leaves it before its runner starts
      await repo.createCycle({ id: 'cyc_own_00000001', triggeredBy: 'x', reason: null, windowHours: 1, now: Date.now() - 60_000, owner: e.instance });
      await ts.store.db.updateTable('improve_cycles').set({ updated_at: Date.now() - 60_000 }).where('id', '=', 'cyc_own_00000001').execute();
      await e.recover();
      // was: "interrupted by a restart while analyzing", its runner left to stop quietly
      expect(await repo.getCycle('cyc_own_00000001')).toMatchObject({ status: 'in_progress', owner: e.instance });
      await e.close();
    } finally {
      await ts.cleanup();
    }
  });
});

