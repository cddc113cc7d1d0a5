import { randomBytes } from 'node:crypto';
import type { ImproveConfig } from '../config/sections/improve.js';
import { AppError } from '../core/errors.js';
import { newOwnerId, ownerGoneHere } from '../core/instance-owner.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';
import { findOpportunities } from './analyze.js';
import { applyChanges, changesInForce, revertChanges, validateChanges } from './changes.js';
import { llmProposal } from './llm.js';
import type { ProposalLlm } from './llm.js';
import type { CycleMetrics } from './metrics.js';
import { judge } from './monitor.js';
import { heldFields, withoutHeld } from './ownership.js';
import { ruleProposal } from './propose.js';
import type { ImproveRepo } from './repo.js';
import { TERMINAL } from './types.js';
import type { ConfigChange, CycleView, ImproveGateway, Opportunity, Proposal, RouteStats, RoutingConfig } from './types.js';

export interface EngineOptions {
  repo: ImproveRepo;
  gateway: ImproveGateway;
  settings: () => ImproveConfig;
  logger: Logger;
  hub?: Hub;
  llm?: ProposalLlm;
  metrics?: CycleMetrics;
  /** This instance's name as a cycle's owner (default: a new `host:pid:...` one). */
  instance?: string;
  /** How often the cycles run here are marked alive, and others' left for dead looked for (30 s; tests set less). */
  heartbeatMs?: number;
}

/** A cycle whose owner has not marked it alive for this long is taken over by another instance. */
const CYCLE_LEASE_HEARTBEATS = 6;

/** How claiming and applying a proposal ended. */
type Applied = { kind: 'done' } | { kind: 'cancelled'; changes: ConfigChange[] } | { kind: 'monitoring'; changes: ConfigChange[]; version: number; previousVersion: number; monitoringUntil: number };

const HOUR = 3600_000;

/** Raised inside a run when the cycle was cancelled or the engine is closing. */
class Stopped extends Error {
  constructor(message = 'the improvement cycle was stopped (cancelled, or the engine is closing)') {
    super(message);
  }
}

/**
 * Runs improvement cycles: analyse a window of the gateway's telemetry, propose, validate, apply as
 * a new config version, monitor, and roll back automatically on degradation. Every step is written
 * to the store before it takes effect, so a restart can tell where each cycle stood (`recover`).
 */
export class ImprovementEngine {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /** Serialises the concurrency check with the insert (two triggers at once cannot both pass). */
  private gate: Promise<unknown> = Promise.resolve();
  /**
   * Serialises every read-modify-write of the routing config (claim + apply, revert), so that two
   * cycles never build their config from the same stale copy and undo each other's change.
   */
  private configLock: Promise<unknown> = Promise.resolve();
  /** Cycles already reported to the metrics (a cycle's end can be reached from two paths). */
  private readonly counted = new Set<string>();
  private closed = false;

  /** This instance, as the owner of the cycles it runs. */
  readonly instance: string;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: EngineOptions) {
    this.instance = o.instance ?? newOwnerId();
  }

  private get heartbeatMs(): number {
    return this.o.heartbeatMs ?? 30_000;
  }

  /**
   * Marks the cycles running here alive, and now and then takes over those whose owner is gone
   * (a crashed instance on another machine is known only by its heartbeat stopping).
   */
  startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      void this.o.repo.heartbeat([...this.running.keys()], this.instance).catch(() => undefined);
      void this.recover().catch((e: unknown) => this.o.logger.warn({ err: (e as Error).message }, 'improvement cycles of a stopped instance not recovered yet'));
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Starts a cycle; the returned view is durable. 409 when `max_concurrent_improvements` run. */
  trigger(opts: { windowHours?: number; by: string; reason?: string }): Promise<CycleView> {
    const next = this.gate.then(async () => {
      if (this.closed) throw new AppError(503, 'closing', 'The daemon is shutting down');
      const s = this.o.settings();
      const active = await this.o.repo.countInProgress();
      if (active >= s.max_concurrent_improvements) {
        throw new AppError(409, 'too_many_improvements', `${active} improvement cycle(s) already in progress (MAX_CONCURRENT_IMPROVEMENTS=${s.max_concurrent_improvements}); wait or cancel one`);
      }
      const id = `cyc_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
      const cycle = await this.o.repo.createCycle({ id, triggeredBy: opts.by, reason: opts.reason ?? null, windowHours: opts.windowHours ?? s.analysis_window_hours, now: Date.now(), owner: this.instance });
      await this.event(id, 'triggered', { by: opts.by, window_hours: cycle.window_hours });
      this.spawn(id, (signal) => this.run(id, signal));
      return cycle;
    });
    this.gate = next.catch(() => undefined);
    return next;
  }

  /** Cancels a cycle in progress; a change already applied is reverted as a new version. */
  async cancel(id: string, by: string): Promise<CycleView> {
    const c = await this.o.repo.getCycle(id);
    if (!c) throw new AppError(404, 'cycle_not_found', `No improvement cycle ${id}`);
    if (c.status !== 'in_progress') throw new AppError(409, 'cycle_finished', `Cycle ${id} is already ${c.status}`);
    if (!(await this.o.repo.advance(id, { status: 'cancelled', phase: 'done', finished_at: Date.now(), error: `cancelled by ${by}` }))) {
      return (await this.o.repo.getCycle(id)) as CycleView;
    }
    const run = this.running.get(id);
    run?.abort.abort();
    await run?.done;
    const after = (await this.o.repo.getCycle(id)) as CycleView;
    if (after.applied_version !== null && after.rollback_version === null && after.proposal) await this.revert(after, after.proposal.changes, `cancelled by ${by}`);
    await this.event(id, 'cancelled', { by });
    await this.ended(id);
    return (await this.o.repo.getCycle(id)) as CycleView;
  }

  /**
   * After a restart: no cycle stays "in_progress" without a runner. Before the change was applied
   * it is marked interrupted (nothing changed); while applying it is rolled back if the change is in
   * force; while monitoring it resumes watching until its deadline.
   */
  async recover(): Promise<void> {
    const now = Date.now();
    for (const c of await this.o.repo.listCycles({ status: 'in_progress', limit: 1000 })) {
      if (this.running.has(c.id) || this.closed) continue;
      // Another instance of a team runs it: left alone while its owner is alive (its heartbeat
      // fresh, or its process known to run on this machine). Taken over once, by one instance.
      // (Never one of this engine's own: a cycle just triggered is in the store a moment before
      // it is among the runners, and a new process always has a new owner name.)
      const alive = c.owner === this.instance || (c.owner !== null && !ownerGoneHere(c.owner) && now - c.updated_at < CYCLE_LEASE_HEARTBEATS * this.heartbeatMs);
      if (alive || !(await this.o.repo.takeOver(c.id, { owner: c.owner, updatedAt: c.updated_at }, this.instance))) continue;
      // a stop that began meanwhile: the cycle is freed for the next start (close releases what is ours)
      if (this.closed) {
        await this.o.repo.release(this.instance).catch(() => undefined);
        continue;
      }
      // One cycle that cannot be recovered (its rollback failed: recorded on the cycle) must
      // neither keep the daemon from starting nor the other cycles from being recovered.
      try {
        await this.recoverOne(c);
      } catch (e) {
        if (!(e instanceof Stopped)) this.o.logger.warn({ cycle: c.id, err: (e as Error).message }, 'improvement cycle not recovered at start');
      }
    }
  }

  private async recoverOne(c: CycleView): Promise<void> {
    const changes = c.proposal?.changes ?? [];
    if (c.phase === 'monitoring' && c.applied_version !== null) {
      await this.event(c.id, 'resumed', { after: 'restart', monitoring_until: c.monitoring_until });
      this.spawn(c.id, (signal) => this.monitor(c.id, changes, signal));
    } else if (c.phase === 'applying' && changes.length > 0) {
      const current = await this.o.gateway.getRoutingConfig();
      const inForce = changesInForce(current, changes);
      const reason = 'interrupted by a restart while applying';
      if (inForce && (await this.o.repo.advance(c.id, { status: 'rolled_back', phase: 'done', error: reason }))) {
        await this.revert(c, changes, reason);
        await this.ended(c.id);
      } else await this.finish(c.id, 'interrupted', { error: 'interrupted by a restart while applying; the change was not in force, nothing to undo' });
    } else {
      await this.finish(c.id, 'interrupted', { error: `interrupted by a restart while ${c.phase}; nothing was changed` });
    }
  }

  /** Stops runners; cycles being monitored stay recorded as such and resume at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.o.repo.release(this.instance).catch(() => undefined);
  }

  private spawn(id: string, fn: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    const done = fn(abort.signal)
      .catch(async (e: unknown) => {
        if (e instanceof Stopped) return;
        this.o.logger.warn({ cycle: id, err: (e as Error).message }, 'improvement cycle failed');
        await this.finish(id, 'failed', { error: (e as Error).message }).catch(() => undefined);
      })
      .finally(() => this.running.delete(id));
    this.running.set(id, { abort, done });
  }

  private async run(id: string, signal: AbortSignal): Promise<void> {
    const s = this.o.settings();
    const cycle = (await this.o.repo.getCycle(id)) as CycleView;
    const until = Date.now();
    const span = cycle.window_hours * HOUR;
    const [current, previous] = await Promise.all([
      this.o.gateway.routeStats({ since: until - span, until }),
      this.o.gateway.routeStats({ since: until - 2 * span, until: until - span }),
    ]);
    const opportunities = findOpportunities(current, previous, s);
    this.o.metrics?.analyzed(opportunities);
    await this.step(id, signal, { phase: 'proposing', baseline: JSON.stringify(current), opportunities: JSON.stringify(opportunities) });
    await this.event(id, 'analyzed', { routes: current.length, opportunities });
    if (opportunities.length === 0) return this.finish(id, 'completed', { outcome: { checks: [], verdict: 'no_opportunities' } });

    // Proposing may wait for an LLM: it runs outside the config lock, on the config as it was.
    const proposed = await this.propose(await this.o.gateway.getRoutingConfig(), opportunities, signal);
    const r = await this.withConfigLock(() => this.claimAndApply(id, cycle, proposed, signal));
    if (r.kind === 'done') return;
    if (r.kind === 'cancelled') {
      // Cancelled while applying: the cancel saw no applied version, so undo here.
      await this.revert((await this.o.repo.getCycle(id)) as CycleView, r.changes, 'cancelled while applying');
      throw new Stopped();
    }
    await this.event(id, 'applied', { version: r.version, previous_version: r.previousVersion, monitoring_until: r.monitoringUntil });
    await this.monitor(id, r.changes, signal);
  }

  /**
   * Under the config lock: drops the changes to fields another cycle in progress holds, records the
   * proposal (which claims its fields), validates it against the config in force now, applies it as
   * a new version and moves the cycle to monitoring.
   */
  private async claimAndApply(id: string, cycle: CycleView, proposed: Proposal, signal: AbortSignal): Promise<Applied> {
    const s = this.o.settings();
    const config = await this.o.gateway.getRoutingConfig();
    const held = heldFields(await this.o.repo.listCycles({ status: 'in_progress', limit: 1000 }), id, config);
    const proposal = withoutHeld(proposed, held, config);
    await this.step(id, signal, { phase: 'validating', proposal: JSON.stringify(proposal) });
    await this.event(id, 'proposed', proposal);
    if (proposal.changes.length === 0) {
      const verdict = proposal.skipped?.length ? `no_applicable_change; ${proposal.skipped.map((k) => k.reason).join(', ')}` : 'no_applicable_change';
      await this.finish(id, 'completed', { outcome: { checks: [], verdict } });
      return { kind: 'done' };
    }

    const next = applyChanges(config, proposal.changes);
    const problems = [...validateChanges(config, proposal.changes, s), ...((await this.o.gateway.validateRoutingConfig?.(next)) ?? [])];
    if (problems.length) {
      await this.event(id, 'validation_failed', { problems });
      await this.finish(id, 'failed', { error: `validation failed: ${problems.join('; ')}` });
      return { kind: 'done' };
    }

    // Record the version in force first, so the history always holds what is rolled back to.
    const latest = await this.o.repo.latestVersion();
    const previousVersion = latest && JSON.stringify(latest.config) === JSON.stringify(config)
      ? latest.id
      : await this.o.repo.addVersion({ by: 'gateway', reason: `config in force before cycle ${id}`, kind: 'baseline', cycleId: id, config });
    await this.step(id, signal, { phase: 'applying', previous_version: previousVersion });
    const reason = proposal.changes.map((c) => c.reason).join('; ');
    await this.o.gateway.applyRoutingConfig(next, { by: `improve:${id}`, reason });
    const applied = await this.o.repo.addVersion({ by: `improve:${id} (triggered by ${cycle.triggered_by})`, reason, kind: 'improvement', cycleId: id, config: next });
    const monitoringUntil = Date.now() + s.monitoring_duration_seconds * 1000;
    if (!(await this.o.repo.advance(id, { phase: 'monitoring', applied_version: applied, monitoring_until: monitoringUntil }))) {
      await this.o.repo.updateCycle(id, { applied_version: applied });
      return { kind: 'cancelled', changes: proposal.changes };
    }
    return { kind: 'monitoring', changes: proposal.changes, version: applied, previousVersion, monitoringUntil };
  }

  private async propose(config: RoutingConfig, opportunities: readonly Opportunity[], signal: AbortSignal): Promise<Proposal> {
    const s = this.o.settings();
    const rules = (): ConfigChange[] => ruleProposal(config, opportunities, s);
    if (!s.llm_proposals || !this.o.llm) return { source: 'rules', changes: rules() };
    try {
      const changes = await llmProposal(this.o.llm, s, config, opportunities, signal);
      const problems = validateChanges(config, changes, s);
      if (problems.length) throw new Error(problems.join('; '));
      return { source: 'llm', changes };
    } catch (e) {
      if (signal.aborted) throw new Stopped();
      return { source: 'rules', changes: rules(), llm_rejected: (e as Error).message };
    }
  }

  /** Watches the changed routes until the deadline; rolls back at the first degradation. */
  private async monitor(id: string, changes: ConfigChange[], signal: AbortSignal): Promise<void> {
    const s = this.o.settings();
    const cycle = (await this.o.repo.getCycle(id)) as CycleView;
    const baseline: RouteStats[] = await this.o.repo.baseline(id);
    const appliedAt = (await this.o.repo.getVersion(cycle.applied_version ?? -1))?.created_at ?? cycle.updated_at;
    const deadline = cycle.monitoring_until ?? Date.now();
    for (;;) {
      const last = Date.now() >= deadline;
      const after = await this.o.gateway.routeStats({ since: appliedAt, until: Date.now() + 1 });
      const v = judge(changes, baseline, after, s.rollback_degradation_threshold, s.min_requests);
      if (v.degraded) {
        const bad = v.checks.filter((c) => c.degraded).map((c) => `${c.route} ${c.metric} ${round(c.before)} -> ${round(c.after)} (+${Math.round(c.change * 100)}%)`);
        const reason = `degraded past ROLLBACK_DEGRADATION_THRESHOLD=${s.rollback_degradation_threshold}: ${bad.join('; ')}`;
        // Claim the cycle first: a cancel that won the race does the undo itself.
        if (signal.aborted || !(await this.o.repo.advance(id, { status: 'rolled_back', phase: 'done', outcome: JSON.stringify({ checks: v.checks, verdict: 'degraded' }), error: reason }))) throw new Stopped();
        await this.revert((await this.o.repo.getCycle(id)) as CycleView, changes, reason);
        await this.ended(id);
        return;
      }
      if (last) {
        const verdict = v.insufficient.length ? `kept; too few requests to judge ${v.insufficient.join(', ')}` : 'kept';
        return this.finish(id, 'completed', { outcome: { checks: v.checks, verdict } });
      }
      await sleep(Math.min(s.monitoring_interval_seconds * 1000, Math.max(0, deadline - Date.now())), signal);
    }
  }

  /**
   * Undoes a cycle's changes as a new config version. The caller has already moved the cycle to its
   * final status (so exactly one party undoes); this records the rollback version. Fields that no
   * longer hold this cycle's value are left alone and recorded (`left_alone`); when that is all of
   * them, no version is written.
   */
  private async revert(c: CycleView, changes: ConfigChange[], reason: string): Promise<void> {
    await this.withConfigLock(async () => {
      const current = await this.o.gateway.getRoutingConfig();
      const { config: reverted, leftAlone } = revertChanges(current, changes);
      if (leftAlone.length) await this.event(c.id, 'left_alone', { fields: leftAlone, reason });
      if (leftAlone.length === changes.length) {
        await this.o.repo.updateCycle(c.id, { finished_at: Date.now() });
        return;
      }
      try {
        await this.o.gateway.applyRoutingConfig(reverted, { by: `improve:${c.id}`, reason: `rollback: ${reason}`, rollback: true });
      } catch (e) {
        // Never report a rollback that did not happen: the change is still in force, say so.
        const error = `rollback failed, the change is still in force: ${(e as Error).message} (after: ${reason})`;
        await this.o.repo.updateCycle(c.id, { status: 'failed', phase: 'done', finished_at: Date.now(), error });
        await this.event(c.id, 'rollback_failed', { error });
        await this.ended(c.id);
        throw new Stopped();
      }
      const version = await this.o.repo.addVersion({ by: `improve:${c.id}`, reason: `rollback: ${reason}`, kind: 'rollback', cycleId: c.id, config: reverted });
      await this.o.repo.updateCycle(c.id, { rollback_version: version, finished_at: Date.now() });
      await this.event(c.id, 'rolled_back', { version, restored_from: c.previous_version, reason, ...(leftAlone.length ? { left_alone: leftAlone.map((f) => f.detail) } : {}) });
    });
  }

  private withConfigLock<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.configLock.then(fn);
    this.configLock = next.catch(() => undefined);
    return next;
  }

  /** Reports a cycle that reached its final status to the metrics, once. */
  private async ended(id: string): Promise<void> {
    if (!this.o.metrics || this.counted.has(id)) return;
    const c = await this.o.repo.getCycle(id);
    if (!c || !TERMINAL.includes(c.status)) return;
    this.counted.add(id);
    this.o.metrics.ended(c);
  }

  private async step(id: string, signal: AbortSignal, patch: Parameters<ImproveRepo['advance']>[1]): Promise<void> {
    if (signal.aborted || !(await this.o.repo.advance(id, patch))) throw new Stopped();
  }

  private async finish(id: string, status: 'completed' | 'failed' | 'interrupted', r: { outcome?: unknown; error?: string }): Promise<void> {
    const moved = await this.o.repo.advance(id, { status, phase: 'done', finished_at: Date.now(), ...(r.outcome ? { outcome: JSON.stringify(r.outcome) } : {}), ...(r.error ? { error: r.error } : {}) });
    await this.event(id, status, r);
    if (moved) await this.ended(id);
  }

  private async event(id: string, kind: string, data: unknown): Promise<void> {
    await this.o.repo.addEvent(id, kind, data);
    const c = await this.o.repo.getCycle(id);
    this.o.hub?.publish('improvement_cycle', { event: kind, cycle: c });
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Stopped());
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Stopped());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
