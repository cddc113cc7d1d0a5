import { sql } from 'kysely';
import type { Insertable, Selectable } from 'kysely';
import type { Store } from '../store.js';
import type { HookEventsTable } from '../tables/core.js';
import { PRUNE_BATCH, rowsWithin, yieldTurn } from '../retention.js';
import type { PruneOptions } from '../retention.js';

export type HookEventRow = Selectable<HookEventsTable>;
export type NewHookEvent = Insertable<HookEventsTable>;

export class HookEventsRepo {
  constructor(private readonly store: Store) {}

  async insert(ev: NewHookEvent): Promise<number> {
    const row = await this.store.db.insertInto('hook_events').values(ev).returning('id').executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /**
   * Deletes the events received before `before` (epoch ms), oldest first, at most `batch` rows
   * and `maxBytes` of payload a statement (on SQLite the store's connection is on the event loop).
   * Ids stay unique: SQLite's AUTOINCREMENT and PostgreSQL's sequence never hand out a deleted id
   * again, so `after` cursors keep working.
   */
  async prune(before: number, opts: PruneOptions = {}): Promise<number> {
    const batch = opts.batch ?? PRUNE_BATCH;
    let total = 0;
    while (!opts.stopped?.()) {
      // octet_length reads a row's size from its header (SQLite) or TOAST pointer (PostgreSQL), not the payload
      const rows = await this.store.db
        .selectFrom('hook_events')
        .select(['id', sql<number>`octet_length(payload)`.as('bytes')])
        .where('received_at', '<', before)
        // a session's start names its folder: project stats find a session's project through it
        // for as long as its gateway requests are kept (one small row a session)
        .where('event', '!=', 'SessionStart')
        .orderBy('received_at')
        .limit(batch)
        .execute();
      const n = rowsWithin(rows.map((r) => Number(r.bytes)), opts.maxBytes);
      if (n === 0) break;
      await this.store.db.deleteFrom('hook_events').where('id', 'in', rows.slice(0, n).map((r) => r.id)).execute();
      total += n;
      if (rows.length < batch && n === rows.length) break;
      await yieldTurn();
    }
    return total;
  }

  async list(filter: { sessionId?: string; event?: string; afterId?: number; limit?: number } = {}): Promise<HookEventRow[]> {
    let q = this.store.db.selectFrom('hook_events').selectAll().orderBy('id', 'asc');
    if (filter.sessionId) q = q.where('session_id', '=', filter.sessionId);
    if (filter.event) q = q.where('event', '=', filter.event);
    if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
    return q.limit(Math.min(filter.limit ?? 500, 5000)).execute();
  }

  /** The newest `limit` events received from `since` and before `before`, oldest first (a start's replay of the session view). */
  async recent(since: number, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<Pick<HookEventRow, 'event' | 'session_id' | 'tool_name' | 'agent_id' | 'agent_type' | 'cwd' | 'received_at'>[]> {
    const rows = await this.store.db
      .selectFrom('hook_events')
      .select(['id', 'event', 'session_id', 'tool_name', 'agent_id', 'agent_type', 'cwd', 'received_at'])
      .where('received_at', '>=', since)
      .where('received_at', '<', before)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }

  async sessions(limit = 50): Promise<{ session_id: string; events: number; first_at: number; last_at: number }[]> {
    const rows = await this.store.db
      .selectFrom('hook_events')
      .select((eb) => [
        'session_id',
        eb.fn.countAll<number>().as('events'),
        eb.fn.min('received_at').as('first_at'),
        eb.fn.max('received_at').as('last_at'),
      ])
      .where('session_id', 'is not', null)
      .groupBy('session_id')
      .orderBy('last_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      session_id: String(r.session_id),
      events: Number(r.events),
      first_at: Number(r.first_at),
      last_at: Number(r.last_at),
    }));
  }
}
