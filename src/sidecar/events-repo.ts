import { sql } from 'kysely';
import type { Store } from '../store/store.js';

/** Advisory lock key serialising event inserts on PostgreSQL ("ccoevent" as a number). */
const EVENTS_LOCK = 0x63636f65;

export interface EventInput {
  event_type: string;
  topic: string | null;
  publisher: string;
  /** The agent whose token published it. */
  agent_id: string;
  issue_id: string | null;
  data: unknown;
}

export interface StoredEvent extends EventInput {
  /** Monotonic cursor: wait with `after=<id>` to get only later events. */
  id: number;
  created_at: number;
}

/** What a waiter or subscriber wants to see. */
export interface EventQuery {
  /** An event type, or `*` for any. */
  eventType: string;
  topic?: string | undefined;
  publisher?: string | undefined;
  issueId?: string | undefined;
  /** The asker's scope: events of other issues are invisible (events without an issue are shared). */
  issues: string[] | '*';
}

/** The small part of an event that decides whether a waiter should look (sent over Redis). */
export type EventHeader = Pick<StoredEvent, 'id' | 'event_type' | 'topic' | 'publisher' | 'issue_id'>;

export function matches(q: EventQuery, e: EventHeader): boolean {
  if (q.eventType !== '*' && q.eventType !== e.event_type) return false;
  if (q.topic !== undefined && q.topic !== e.topic) return false;
  if (q.publisher !== undefined && q.publisher !== e.publisher) return false;
  if (q.issueId !== undefined && q.issueId !== e.issue_id) return false;
  if (q.issues !== '*' && e.issue_id !== null && !q.issues.includes(e.issue_id)) return false;
  return true;
}

/** Events in the store: the source of truth for every bus backend. */
export class EventsRepo {
  constructor(private readonly store: Store) {}

  /**
   * Stores an event. On PostgreSQL concurrent transactions may commit out of id order, and a
   * reader that saw id 105 before 104 committed would skip 104 forever; an advisory lock held
   * to commit makes ids visible in order (SQLite serialises writers anyway).
   */
  async insert(e: EventInput): Promise<StoredEvent> {
    const created_at = Date.now();
    const values = { ...e, data: JSON.stringify(e.data ?? null), created_at };
    const row =
      this.store.dialect === 'postgres'
        ? await this.store.db.transaction().execute(async (trx) => {
            await sql`select pg_advisory_xact_lock(${EVENTS_LOCK})`.execute(trx);
            return trx.insertInto('sidecar_events').values(values).returning('id').executeTakeFirstOrThrow();
          })
        : await this.store.db.insertInto('sidecar_events').values(values).returning('id').executeTakeFirstOrThrow();
    return { ...e, id: Number(row.id), created_at };
  }

  /** Matching events with a cursor above `after`, oldest first. */
  async after(q: EventQuery, after: number, limit = 100): Promise<StoredEvent[]> {
    if (Array.isArray(q.issues) && q.issues.length === 0 && q.issueId !== undefined) return [];
    let s = this.store.db.selectFrom('sidecar_events').selectAll().where('id', '>', after);
    if (q.eventType !== '*') s = s.where('event_type', '=', q.eventType);
    if (q.topic !== undefined) s = s.where('topic', '=', q.topic);
    if (q.publisher !== undefined) s = s.where('publisher', '=', q.publisher);
    if (q.issueId !== undefined) s = s.where('issue_id', '=', q.issueId);
    if (q.issues !== '*') {
      const issues = q.issues;
      s = s.where((eb) => (issues.length ? eb.or([eb('issue_id', 'is', null), eb('issue_id', 'in', issues)]) : eb('issue_id', 'is', null)));
    }
    const rows = await s.orderBy('id', 'asc').limit(Math.min(Math.max(limit, 1), 1000)).execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), created_at: Number(r.created_at), data: JSON.parse(r.data) as unknown }));
  }

  async count(): Promise<number> {
    const r = await this.store.db.selectFrom('sidecar_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
