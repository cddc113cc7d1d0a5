import type { Selectable, Updateable } from 'kysely';
import type { Store } from '../store/store.js';
import type { ImproveCyclesTable } from '../store/tables/improve.js';
import type { ConfigVersionView, CyclePhase, CycleStatus, CycleView, RouteStats, RoutingConfig } from './types.js';

type CycleRow = Selectable<ImproveCyclesTable>;

const json = <T>(s: string | null, fallback: T): T => (s === null ? fallback : (JSON.parse(s) as T));
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toView(r: CycleRow): CycleView {
  return {
    id: r.id,
    status: r.status as CycleStatus,
    phase: r.phase as CyclePhase,
    triggered_by: r.triggered_by,
    reason: r.reason,
    window_hours: Number(r.window_hours),
    started_at: Number(r.started_at),
    updated_at: Number(r.updated_at),
    finished_at: num(r.finished_at),
    opportunities: json(r.opportunities, []),
    proposal: json(r.proposal, null),
    previous_version: num(r.previous_version),
    applied_version: num(r.applied_version),
    rollback_version: num(r.rollback_version),
    monitoring_until: num(r.monitoring_until),
    outcome: json(r.outcome, null),
    error: r.error,
    owner: r.owner ?? null,
  };
}

/** Cycles, config versions and cycle history in the store; every write is durable on return. */
export class ImproveRepo {
  constructor(private readonly store: Store) {}

  async createCycle(c: { id: string; triggeredBy: string; reason: string | null; windowHours: number; now: number; owner?: string }): Promise<CycleView> {
    await this.store.db
      .insertInto('improve_cycles')
      .values({ id: c.id, status: 'in_progress', phase: 'analyzing', triggered_by: c.triggeredBy, reason: c.reason, window_hours: c.windowHours, started_at: c.now, updated_at: c.now, finished_at: null, baseline: null, opportunities: null, proposal: null, previous_version: null, applied_version: null, rollback_version: null, monitoring_until: null, outcome: null, error: null, owner: c.owner ?? null })
      .execute();
    return (await this.getCycle(c.id)) as CycleView;
  }

  /** The owner's heartbeat on the cycles it runs. */
  async heartbeat(ids: readonly string[], owner: string, now = Date.now()): Promise<void> {
    if (!ids.length) return;
    await this.store.db.updateTable('improve_cycles').set({ updated_at: now }).where('id', 'in', [...ids]).where('owner', '=', owner).where('status', '=', 'in_progress').execute();
  }

  /** A graceful stop: the owner's cycles in progress are free for the next start, or another instance, to resume at once. */
  async release(owner: string): Promise<void> {
    await this.store.db.updateTable('improve_cycles').set({ owner: null }).where('owner', '=', owner).where('status', '=', 'in_progress').execute();
  }

  /** Takes a cycle in progress over from `from` (as last seen: its owner and heartbeat); false when another instance took it first, or it moved on. */
  async takeOver(id: string, from: { owner: string | null; updatedAt: number }, owner: string): Promise<boolean> {
    let q = this.store.db.updateTable('improve_cycles').set({ owner, updated_at: Date.now() }).where('id', '=', id).where('status', '=', 'in_progress').where('updated_at', '=', from.updatedAt);
    q = from.owner === null ? q.where('owner', 'is', null) : q.where('owner', '=', from.owner);
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }

  async updateCycle(id: string, patch: Updateable<ImproveCyclesTable>): Promise<void> {
    await this.store.db.updateTable('improve_cycles').set({ ...patch, updated_at: Date.now() }).where('id', '=', id).execute();
  }

  /** Moves a cycle on only if it is still in progress (a cancel may have won the race). */
  async advance(id: string, patch: Updateable<ImproveCyclesTable>): Promise<boolean> {
    const r = await this.store.db.updateTable('improve_cycles').set({ ...patch, updated_at: Date.now() }).where('id', '=', id).where('status', '=', 'in_progress').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async getCycle(id: string): Promise<CycleView | undefined> {
    const r = await this.store.db.selectFrom('improve_cycles').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toView(r) : undefined;
  }

  /** The analysed window's telemetry the monitoring compares against. */
  async baseline(id: string): Promise<RouteStats[]> {
    const r = await this.store.db.selectFrom('improve_cycles').select('baseline').where('id', '=', id).executeTakeFirst();
    return json<RouteStats[]>(r?.baseline ?? null, []);
  }

  async listCycles(opts: { status?: CycleStatus; limit?: number; offset?: number } = {}): Promise<CycleView[]> {
    let q = this.store.db.selectFrom('improve_cycles').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc');
    if (opts.status) q = q.where('status', '=', opts.status);
    return (await q.limit(Math.min(opts.limit ?? 50, 1000)).offset(opts.offset ?? 0).execute()).map(toView);
  }

  /** One page of cycles, newest first, and how many there are in all (with the same status). */
  async pageCycles(opts: { status?: CycleStatus; limit: number; offset: number }): Promise<{ cycles: CycleView[]; total: number }> {
    let count = this.store.db.selectFrom('improve_cycles').select((eb) => eb.fn.countAll<number>().as('n'));
    if (opts.status) count = count.where('status', '=', opts.status);
    const [cycles, n] = await Promise.all([this.listCycles(opts), count.executeTakeFirst()]);
    return { cycles, total: Number(n?.n ?? 0) };
  }

  async countInProgress(): Promise<number> {
    const r = await this.store.db.selectFrom('improve_cycles').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'in_progress').executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async addEvent(cycleId: string, kind: string, data: unknown): Promise<void> {
    await this.store.db.insertInto('improve_cycle_events').values({ cycle_id: cycleId, ts: Date.now(), kind, data: JSON.stringify(data ?? {}) }).execute();
  }

  async events(cycleId: string): Promise<{ id: number; ts: number; kind: string; data: unknown }[]> {
    const rows = await this.store.db.selectFrom('improve_cycle_events').selectAll().where('cycle_id', '=', cycleId).orderBy('id', 'asc').limit(5000).execute();
    return rows.map((r) => ({ id: Number(r.id), ts: Number(r.ts), kind: r.kind, data: JSON.parse(r.data) as unknown }));
  }

  async addVersion(v: { by: string; reason: string; kind: ConfigVersionView['kind']; cycleId: string | null; config: RoutingConfig }): Promise<number> {
    const row = await this.store.db
      .insertInto('improve_config_versions')
      .values({ created_at: Date.now(), created_by: v.by, reason: v.reason, kind: v.kind, cycle_id: v.cycleId, config: JSON.stringify(v.config) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async getVersion(id: number): Promise<ConfigVersionView | undefined> {
    const r = await this.store.db.selectFrom('improve_config_versions').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { ...r, id: Number(r.id), created_at: Number(r.created_at), kind: r.kind as ConfigVersionView['kind'], config: JSON.parse(r.config) as RoutingConfig } : undefined;
  }

  async latestVersion(): Promise<ConfigVersionView | undefined> {
    const r = await this.store.db.selectFrom('improve_config_versions').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return r ? this.getVersion(Number(r.id)) : undefined;
  }

  async listVersions(limit = 100): Promise<Omit<ConfigVersionView, 'config'>[]> {
    const rows = await this.store.db.selectFrom('improve_config_versions').select(['id', 'created_at', 'created_by', 'reason', 'kind', 'cycle_id']).orderBy('id', 'desc').limit(Math.min(limit, 1000)).execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), created_at: Number(r.created_at), kind: r.kind as ConfigVersionView['kind'] }));
  }
}
