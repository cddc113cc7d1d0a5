import { sql } from 'kysely';
import type { CompiledQuery } from 'kysely';
import { PRUNE_BATCH, rowsWithin, yieldTurn } from '../store/retention.js';
import type { PruneOptions } from '../store/retention.js';
import type { Store } from '../store/store.js';
import { preparedQuery } from './prepared.js';
import { StoreWriter, step } from '../store/sql-writer.js';
import type { SqlWriter, WriteStep } from '../store/sql-writer.js';

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

interface PendingInsert {
  values: EventRow;
  event: EventInput;
  bytes: number;
  resolve(e: StoredEvent): void;
  reject(e: unknown): void;
}

interface EventRow {
  event_type: string;
  topic: string | null;
  publisher: string;
  agent_id: string;
  issue_id: string | null;
  data: string;
  created_at: number;
}

/** Inserts committed together at most. */
const MAX_BATCH = 512;

/** Event data one read gives at most (at least one event): the rest comes with the next read, from its cursor. */
export const READ_DATA_BYTES = 4 * 1024 * 1024;

/**
 * Events in the store: the source of truth for every bus backend.
 *
 * Inserts arriving in the same turn of the event loop (or while the previous batch commits) are
 * committed together: one transaction on the sidecar's SqlWriter (on SQLite a thread with its
 * own connection); each caller resolves once its event is committed. With `tail` — only when this process is
 * the sole writer of the store's events (SQLite, in-process wake-ups) — the most recent events
 * are also kept in memory, indexed by type and topic, and reads after a cursor inside that window
 * are answered from there without a query.
 */
export class EventsRepo {
  private pending: PendingInsert[] = [];
  private scheduled = false;
  private readonly insertOne: (v: EventRow) => CompiledQuery;
  private readonly tail: EventTail | undefined;
  private ready: Promise<void> | undefined;
  private readonly writer: SqlWriter;
  private readonly lock: WriteStep | undefined;

  constructor(
    private readonly store: Store,
    opts: { tail?: boolean | { maxEvents?: number; maxBytes?: number }; writer?: SqlWriter } = {},
  ) {
    this.writer = opts.writer ?? new StoreWriter(store);
    this.lock = store.dialect === 'postgres' ? step(sql`select pg_advisory_xact_lock(${EVENTS_LOCK})`.compile(store.db)) : undefined;
    const cols = ['event_type', 'topic', 'publisher', 'agent_id', 'issue_id', 'data', 'created_at'] as const;
    this.insertOne = preparedQuery(cols, (p) => store.db.insertInto('sidecar_events').values(p as unknown as EventRow).returning('id'));
    this.tail = opts.tail ? new EventTail(typeof opts.tail === 'object' ? opts.tail : {}) : undefined;
  }

  /**
   * Stores an event. On PostgreSQL concurrent transactions may commit out of id order, and a
   * reader that saw id 105 before 104 committed would skip 104 forever; an advisory lock held
   * to commit makes ids visible in order (SQLite serialises writers anyway).
   */
  insert(e: EventInput): Promise<StoredEvent> {
    const created_at = Date.now();
    const data = JSON.stringify(e.data ?? null);
    const values: EventRow = { event_type: e.event_type, topic: e.topic, publisher: e.publisher, agent_id: e.agent_id, issue_id: e.issue_id, data, created_at };
    return new Promise((resolve, reject) => {
      this.pending.push({ values, event: e, bytes: data.length, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        // (again before each batch: a failed commit resets the tail)
        await this.init();
        const batch = this.pending.length <= MAX_BATCH ? this.pending : this.pending.slice(0, MAX_BATCH);
        this.pending = this.pending.length <= MAX_BATCH ? [] : this.pending.slice(MAX_BATCH);
        await this.commit(batch);
      }
    } catch (e) {
      const failed = this.pending;
      this.pending = [];
      for (const p of failed) p.reject(e);
    } finally {
      this.scheduled = false;
    }
  }

  private async commit(batch: PendingInsert[]): Promise<void> {
    let ids: number[];
    try {
      const steps: WriteStep[] = this.lock ? [this.lock] : [];
      for (const p of batch) steps.push(step(this.insertOne(p.values)));
      const rows = await this.writer.run(steps, { first: true });
      const first = this.lock ? 1 : 0;
      ids = batch.map((_p, i) => Number((rows[first + i]?.[0] as { id: number | bigint }).id));
    } catch (e) {
      // A failure does not say that nothing was committed: a write thread that died after its
      // commit and before its answer leaves events in the store that the tail never saw, and
      // waits served from the tail would skip them. The tail starts again above the store's
      // newest event; reads below that go to the store.
      if (this.tail) {
        this.tail.clear();
        this.ready = undefined;
      }
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const ev: StoredEvent = { ...p.event, data: p.event.data ?? null, id: ids[i] as number, created_at: p.values.created_at };
      // the tail holds what a store read would return (a JSON round trip), not the caller's object
      this.tail?.append({ ...ev, data: JSON.parse(p.values.data) as unknown }, p.bytes);
      p.resolve(ev);
    });
  }

  /** The tail starts above the store's newest event (once, before the first insert or read). */
  private init(): Promise<void> {
    if (!this.tail) return Promise.resolve();
    this.ready ??= this.store.db
      .selectFrom('sidecar_events')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst()
      .then((r) => this.tail?.reset(Number(r?.max ?? 0)))
      .catch((e: unknown) => {
        this.ready = undefined; // a failed first query is tried again by the next caller
        throw e;
      });
    return this.ready;
  }

  /** The newest event's id in the store (0 when there is none). */
  async newestId(): Promise<number> {
    const r = await this.store.db.selectFrom('sidecar_events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    return Number(r?.max ?? 0);
  }

  /**
   * Matching events with a cursor above `after`, oldest first: at most `limit`, and no more than
   * READ_DATA_BYTES of their data (at least one event): the cursor of the last one given is where
   * the next read goes on. (1,000 events of up to 1 MB each made one answer past V8's string limit:
   * a 500 on every try, and memory for each such reader.)
   */
  async after(q: EventQuery, after: number, limit = 100): Promise<StoredEvent[]> {
    if (Array.isArray(q.issues) && q.issues.length === 0 && q.issueId !== undefined) return [];
    const max = Math.min(Math.max(limit, 1), 1000);
    if (this.tail) {
      await this.init();
      const hit = this.tail.read(q, after, max, READ_DATA_BYTES);
      if (hit) return hit;
    }
    let s = this.store.db.selectFrom('sidecar_events').selectAll().where('id', '>', after);
    if (q.eventType !== '*') s = s.where('event_type', '=', q.eventType);
    if (q.topic !== undefined) s = s.where('topic', '=', q.topic);
    if (q.publisher !== undefined) s = s.where('publisher', '=', q.publisher);
    if (q.issueId !== undefined) s = s.where('issue_id', '=', q.issueId);
    if (q.issues !== '*') {
      const issues = q.issues;
      s = s.where((eb) => (issues.length ? eb.or([eb('issue_id', 'is', null), eb('issue_id', 'in', issues)]) : eb('issue_id', 'is', null)));
    }
    const rows = await s.orderBy('id', 'asc').limit(max).execute();
    const out: StoredEvent[] = [];
    let bytes = 0;
    for (const r of rows) {
      bytes += r.data.length;
      if (out.length > 0 && bytes > READ_DATA_BYTES) break;
      out.push({ ...r, id: Number(r.id), created_at: Number(r.created_at), data: JSON.parse(r.data) as unknown });
    }
    return out;
  }

  /**
   * Deletes the events created before `before` (epoch ms) that come first in id order, `batch` a
   * transaction on the sidecar's writer, and drops them from the tail. Only a prefix of the ids
   * goes, up to the first event still within the retention: an event a wait could still get
   * (cursor and retention alike) never goes while an older one stays, even when clocks disagree.
   * The newest event always stays: on SQLite a new id is the largest rowid + 1 (sidecar_005), and
   * without it a deleted id, a cursor some waiter holds, would be handed out again.
   */
  async prune(before: number, opts: PruneOptions = {}): Promise<number> {
    const batch = opts.batch ?? PRUNE_BATCH;
    const keep = await this.newestId();
    let total = 0;
    let after = 0;
    while (!opts.stopped?.()) {
      // ids only grow above `keep`: what is read below it stays as read
      const rows = await this.store.db
        .selectFrom('sidecar_events')
        .select(['id', 'created_at', sql<number>`octet_length(data)`.as('bytes')])
        .where('id', '>', after)
        .where('id', '<', keep)
        .orderBy('id')
        .limit(batch)
        .execute();
      let old = 0;
      while (old < rows.length && Number((rows[old] as { created_at: number }).created_at) < before) old++;
      // large data: fewer a transaction (the write thread's lock is every publish's too)
      const n = rowsWithin(rows.slice(0, old).map((r) => Number(r.bytes)), opts.maxBytes);
      if (n === 0) break;
      const last = Number((rows[n - 1] as { id: number }).id);
      await this.writer.run([step(this.store.db.deleteFrom('sidecar_events').where('id', '<=', last))]);
      this.tail?.trim(last);
      total += n;
      after = last;
      // every old event read is gone, and the next is kept or none is left
      if (n === old && (old < rows.length || rows.length < batch)) break;
      await yieldTurn();
    }
    return total;
  }

  async count(): Promise<number> {
    // SQLite: the ids are contiguous (a new one is the largest + 1; a rolled-back insert leaves no
    // gap; retention deletes a prefix only), so the count is the span of two index lookups. A
    // count(*) read every row, on the event loop: 11–15 ms at a million events for each /status,
    // against 0.2–0.4 ms.
    if (this.store.dialect === 'sqlite') {
      // (two queries: SQLite answers a lone min() or max() from the index, both together by a scan)
      const hi = await this.store.db.selectFrom('sidecar_events').select((eb) => eb.fn.max('id').as('v')).executeTakeFirst();
      if (hi?.v == null) return 0;
      const lo = await this.store.db.selectFrom('sidecar_events').select((eb) => eb.fn.min('id').as('v')).executeTakeFirst();
      return Number(hi.v) - Number(lo?.v ?? hi.v) + 1;
    }
    const r = await this.store.db.selectFrom('sidecar_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}

/** An id-ordered list with a moving start (old entries drop off the front). */
class Run {
  items: StoredEvent[] = [];
  head = 0;
  drop(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  get size(): number {
    return this.items.length - this.head;
  }
  /** Index of the first event with id above `after`. */
  firstAfter(after: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] as StoredEvent).id <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The newest events in memory: every event with an id above `floor` is here, in id order, also
 * listed per event type and per (type, topic). Bounded by count and by the bytes of their data;
 * the oldest drop off and raise the floor.
 */
export class EventTail {
  private floor = 0;
  private bytes = 0;
  private readonly all = new Run();
  private readonly sizes: number[] = [];
  private sizeHead = 0;
  /** Each event's size as appended (for reads bounded by bytes). */
  private readonly sizeOf = new WeakMap<StoredEvent, number>();
  private readonly byType = new Map<string, Run>();
  private readonly byTopic = new Map<string, Run>();
  private readonly maxEvents: number;
  private readonly maxBytes: number;

  constructor(opts: { maxEvents?: number; maxBytes?: number } = {}) {
    this.maxEvents = opts.maxEvents ?? 50_000;
    this.maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
  }

  /** Starts empty above `floor` (the store's newest id). */
  reset(floor: number): void {
    this.floor = floor;
  }

  /** Drops every event; until the next `reset`, every read goes to the store. */
  clear(): void {
    this.floor = Infinity;
    this.bytes = 0;
    this.all.items = [];
    this.all.head = 0;
    this.sizes.length = 0;
    this.sizeHead = 0;
    this.byType.clear();
    this.byTopic.clear();
  }

  /** Adds a committed event (ids arrive in increasing order). */
  append(e: StoredEvent, bytes: number): void {
    this.sizeOf.set(e, bytes);
    this.all.items.push(e);
    this.sizes.push(bytes);
    this.bytes += bytes;
    runOf(this.byType, e.event_type).items.push(e);
    runOf(this.byTopic, topicKey(e.event_type, e.topic)).items.push(e);
    while (this.all.size > this.maxEvents || (this.bytes > this.maxBytes && this.all.size > 1)) this.evict();
  }

  /** Drops the events up to id `upTo` (deleted from the store): reads below go to the store. */
  trim(upTo: number): void {
    while (this.all.size > 0 && (this.all.items[this.all.head] as StoredEvent).id <= upTo) this.evict();
  }

  /**
   * Matching events above `after`, up to `limit`; undefined when `after` is below the window
   * (older events are only in the store).
   */
  read(q: EventQuery, after: number, limit: number, maxBytes = Infinity): StoredEvent[] | undefined {
    if (after < this.floor) return undefined;
    const run = q.eventType === '*' ? this.all : q.topic !== undefined ? this.byTopic.get(topicKey(q.eventType, q.topic)) : this.byType.get(q.eventType);
    const out: StoredEvent[] = [];
    if (!run) return out;
    let bytes = 0;
    for (let i = run.firstAfter(after); i < run.items.length && out.length < limit; i++) {
      const e = run.items[i] as StoredEvent;
      if (!matches(q, e)) continue;
      bytes += this.sizeOf.get(e) ?? 0;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  private evict(): void {
    const e = this.all.items[this.all.head] as StoredEvent;
    this.all.drop();
    this.bytes -= this.sizes[this.sizeHead] as number;
    this.sizeHead++;
    if (this.sizeHead > 1024 && this.sizeHead * 2 > this.sizes.length) {
      this.sizes.splice(0, this.sizeHead);
      this.sizeHead = 0;
    }
    this.floor = e.id;
    dropFrom(this.byType, e.event_type);
    dropFrom(this.byTopic, topicKey(e.event_type, e.topic));
  }
}

const topicKey = (type: string, topic: string | null): string => (topic === null ? `${type}\u0000` : `${type}\u0000${topic}\u0000`);

function runOf(m: Map<string, Run>, k: string): Run {
  let r = m.get(k);
  if (!r) m.set(k, (r = new Run()));
  return r;
}

function dropFrom(m: Map<string, Run>, k: string): void {
  const r = m.get(k);
  if (!r) return;
  r.drop();
  if (r.size === 0) m.delete(k);
}
