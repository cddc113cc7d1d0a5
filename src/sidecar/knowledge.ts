import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { Store } from '../store/store.js';
import { preparedQuery } from './prepared.js';
import type { PreparedQuery } from './prepared.js';
import { StoreWriter, step } from '../store/sql-writer.js';
import type { SqlWriter, WriteStep } from '../store/sql-writer.js';

export interface KnowledgeEntry {
  kind: 'decision' | 'result';
  content: string;
}

/** Knowledge rows one result may have (200 decisions and the result text fit). */
const ROWS_PER_RESULT = 1000;

/** Results indexed per transaction at most (FTS5 writes one segment per transaction). */
const INDEX_BATCH = 32;
/** Tries again of a knowledge batch the store did not take (after 1, 2 and 4 s). */
const INDEX_TRIES_AGAIN = 3;

/** A stored result's entries, to index (`id`: its `sidecar_results` row). */
export interface IndexItem {
  id: number;
  issueId: string;
  agentType: string;
  storedAt: number;
  entries: readonly KnowledgeEntry[];
}

export interface KnowledgeHit {
  issue_id: string;
  agent_type: string;
  kind: string;
  content: string;
  created_at: number;
  score: number;
}

export interface KnowledgeQuery {
  q: string;
  agentType?: string | undefined;
  /** Issues the asker may see (`*` = all). */
  issues: string[] | '*';
  /** Leave this issue out (context shows its own results separately). */
  excludeIssue?: string | undefined;
  limit?: number;
}

/** The words of a free-text query, safe to put into an FTS5 or tsquery expression. */
export function queryTerms(q: string, max = 16): string[] {
  const words = q.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
  return [...new Set(words.filter((w) => w.length >= 2))].slice(0, max);
}

/**
 * The knowledge broker's index: decisions and results agents stored, searchable across issues
 * (SQLite FTS5 with BM25 ranking; PostgreSQL tsvector with ts_rank). Any term may match; more
 * matching terms rank higher.
 */
export class Knowledge {
  /** Statements compiled once (the result path runs them for every stored result). */
  private readonly write:
    | {
        dialect: 'sqlite';
        /** The FTS5 rowids in a range, read from the table's content shadow table. */
        ids: PreparedQuery<'a' | 'b'>;
        del: PreparedQuery<'rowid'>;
        /** One prepared row insert, run per entry (no round trips to pay in process). */
        ins: PreparedQuery<'rowid' | 'issue' | 'type' | 'kind' | 'content' | 'at'>;
      }
    | { dialect: 'postgres'; del: PreparedQuery<'issue' | 'type'> };
  private readonly writer: SqlWriter;
  private readonly delayMs: number;
  private queue: IndexItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Items given and not yet written (queued or in the transaction being written). */
  private unwritten = 0;
  /** The last write's error (its items are tried again a few times; what is still unwritten stays marked unindexed, and the next start indexes it). */
  lastError: string | undefined;
  /** Items whose write failed, waiting for their next try (see `retryLater`). */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryQueue: IndexItem[] = [];
  /** How many times each failed item was tried (by result id). */
  private readonly tries = new Map<number, number>();

  constructor(
    private readonly store: Store,
    opts: { writer?: SqlWriter; delayMs?: number } = {},
  ) {
    this.writer = opts.writer ?? new StoreWriter(store);
    this.delayMs = opts.delayMs ?? 50;
    const compile = (q: RawBuilder<unknown>) => ({ compile: () => q.compile(store.db) });
    this.write =
      store.dialect === 'sqlite'
        ? {
            dialect: 'sqlite',
            // An FTS5 table scanned by a rowid range costs ~3× more than its content shadow
            // table (a plain rowid table) read by the same range and one delete per rowid found.
            ids: preparedQuery(['a', 'b'], (p) => compile(sql`select id from sidecar_knowledge_content where id >= ${p.a} and id < ${p.b}`)),
            del: preparedQuery(['rowid'], (p) => compile(sql`delete from sidecar_knowledge where rowid = ${p.rowid}`)),
            ins: preparedQuery(['rowid', 'issue', 'type', 'kind', 'content', 'at'], (p) =>
              compile(sql`insert into sidecar_knowledge (rowid, issue_id, agent_type, kind, content, created_at) values (${p.rowid}, ${p.issue}, ${p.type}, ${p.kind}, ${p.content}, ${p.at})`),
            ),
          }
        : { dialect: 'postgres', del: preparedQuery(['issue', 'type'], (p) => compile(sql`delete from sidecar_knowledge where issue_id = ${p.issue} and agent_type = ${p.type}`)) };
  }

  /**
   * Indexes a stored result's entries, replacing what its previous version indexed, soon: in
   * batches of one transaction on the sidecar's writer, off the path that acknowledges the
   * result (FTS5 writes ~6–10 pages per result in a transaction of its own, under 1 in a batch
   * of 32). `search` first writes what is queued, so a search sees every stored result. A start
   * indexes what a crash left unindexed (`unindexed`, `ResultsRepo.recover`).
   */
  index(item: IndexItem): void {
    // a newer version of a result whose older one waits to be tried again replaces it
    if (this.retryQueue.length) this.retryQueue = this.retryQueue.filter((r) => r.id !== item.id || r.storedAt > item.storedAt);
    this.queue.push(item);
    this.unwritten++;
    if (this.queue.length >= INDEX_BATCH) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  /** Writes every queued item; resolves once they are committed (or their write failed). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // what waits to be tried again goes now too (a search, the close)
    if (this.retryQueue.length) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.unwritten += this.retryQueue.length;
      this.queue.unshift(...this.retryQueue);
      this.retryQueue = [];
    }
    this.writing = this.writing.then(() => this.writeQueued());
    return this.writing;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, INDEX_BATCH);
      // a result stored twice in the batch: its last version only
      const last = new Map<number, IndexItem>();
      for (const it of batch) last.set(it.id, it);
      const steps: WriteStep[] = this.lockSteps([...last.values()]);
      for (const it of last.values()) for (const st of this.replaceSteps(it, steps.length)) steps.push(st);
      try {
        await this.writer.run(steps);
        this.lastError = undefined;
        for (const it of last.values()) this.tries.delete(it.id);
      } catch (e) {
        this.lastError = (e as Error).message;
        this.retryLater([...last.values()]);
      } finally {
        this.unwritten -= batch.length;
      }
    }
  }

  /**
   * A batch the store did not take (the write lock held past its timeout by another process or a
   * re-index, a write thread restarting): its items are tried again after 1, 2 and 4 s, so that
   * searches find them while the daemon runs; one still failing then waits for the next start
   * (`unindexed`). A newer version of a result given meanwhile replaces the one waiting here.
   */
  private retryLater(items: IndexItem[]): void {
    for (const it of items) {
      // a newer version already queued is written instead
      if (this.queue.some((q) => q.id === it.id && q.storedAt >= it.storedAt)) continue;
      const n = (this.tries.get(it.id) ?? 0) + 1;
      if (n > INDEX_TRIES_AGAIN) {
        this.tries.delete(it.id);
        continue;
      }
      this.tries.set(it.id, n);
      this.retryQueue.push(it);
    }
    if (this.retryQueue.length === 0 || this.retryTimer) return;
    const wait = 1000 * 2 ** (Math.max(...this.retryQueue.map((it) => this.tries.get(it.id) ?? 1)) - 1);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const again = this.retryQueue;
      this.retryQueue = [];
      // ahead of what was given since (a newer version of the same result was taken out of `again` by `index`)
      this.unwritten += again.length;
      this.queue.unshift(...again);
      void this.flush();
    }, wait);
    this.retryTimer.unref();
  }

  /**
   * PostgreSQL, several daemons on one database: each (issue, agent type) the batch replaces is
   * locked for the transaction (advisory, two-key form: apart from the events' one-key lock), in
   * one order so two batches cannot deadlock. Without it two daemons replacing one result's
   * entries at once would both delete, then both insert: the entries twice. SQLite has one writer.
   */
  private lockSteps(items: readonly IndexItem[]): WriteStep[] {
    if (this.store.dialect !== 'postgres') return [];
    const byKey = new Map(items.map((it) => [`${it.issueId}\u0000${it.agentType}`, it]));
    return [...byKey.keys()].sort().map((k) => {
      const it = byKey.get(k) as IndexItem;
      return step(sql`select pg_advisory_xact_lock(hashtext(${it.issueId}), hashtext(${it.agentType}))`.compile(this.store.db));
    });
  }

  /**
   * The write steps replacing what is indexed for one result. On SQLite the FTS5 rows of result
   * `id` have rowids `id * 1000 + k`, found by that rowid range (FTS5's unindexed columns would
   * need a scan of the whole index); PostgreSQL has a b-tree on (issue_id, agent_type).
   * `at`: the index of the first of these steps in their transaction.
   */
  private replaceSteps(it: IndexItem, at: number): WriteStep[] {
    // NUL out of the text: PostgreSQL text cannot hold it, and one such entry failed its whole batch
    const rows = it.entries
      .filter((e) => e.content.trim())
      .slice(0, ROWS_PER_RESULT)
      .map((e) => (e.content.includes('\u0000') ? { ...e, content: e.content.replaceAll('\u0000', ' ') } : e));
    const w = this.write;
    if (w.dialect === 'postgres') {
      // one multi-row insert (one round trip); PostgreSQL numbers the rows itself
      const del = step(w.del({ issue: it.issueId, type: it.agentType }));
      if (rows.length === 0) return [del];
      const values = rows.map((e) => sql`(${it.issueId}, ${it.agentType}, ${e.kind}, ${e.content}, ${it.storedAt})`);
      return [del, step(sql`insert into sidecar_knowledge (issue_id, agent_type, kind, content, created_at) values ${sql.join(values)}`.compile(this.store.db))];
    }
    const base = it.id * ROWS_PER_RESULT;
    // the rowids the previous version indexed, then one delete per rowid found
    const out = [step(w.ids({ a: base, b: base + ROWS_PER_RESULT })), step(w.del({ rowid: 0 }), { step: at, col: 'id', param: w.del.slot('rowid') })];
    rows.forEach((e, k) => out.push(step(w.ins({ rowid: base + k, issue: it.issueId, type: it.agentType, kind: e.kind, content: e.content, at: it.storedAt }))));
    return out;
  }

  /**
   * Stored results whose knowledge is not indexed: a crash came between the row's commit and its
   * entries'. Each version's entries carry its `stored_at` (`created_at`), and every result has
   * at least one (its status text), so a row with no entry of its own version is unindexed. (No
   * mark on the row: rewriting it once more after indexing was one more WAL page per result.)
   */
  async unindexed(): Promise<{ id: number; stored_at: number; body: string }[]> {
    const r =
      this.store.dialect === 'sqlite'
        ? // the entries of result id have rowids id * 1000 + k; c4 is created_at in FTS5's content table
          await sql<{ id: number; stored_at: number; body: string }>`select r.id, r.stored_at, r.body from sidecar_results r
            where not exists (select 1 from sidecar_knowledge_content k where k.id >= r.id * ${ROWS_PER_RESULT} and k.id < (r.id + 1) * ${ROWS_PER_RESULT} and k.c4 = r.stored_at)`.execute(this.store.db)
        : await sql<{ id: number; stored_at: number; body: string }>`select r.id, r.stored_at, r.body from sidecar_results r
            where not exists (select 1 from sidecar_knowledge k where k.issue_id = r.issue_id and k.agent_type = r.agent_type and k.created_at = r.stored_at)`.execute(this.store.db);
    return r.rows.map((x) => ({ id: Number(x.id), stored_at: Number(x.stored_at), body: x.body }));
  }

  /**
   * `stale`: what is queued for the index may be left out (contexts, whose related knowledge
   * may be `relatedTtlMs` old anyway, do not wait for the writer); by default a search first
   * writes what is queued.
   */
  async search(query: KnowledgeQuery, opts: { stale?: boolean } = {}): Promise<KnowledgeHit[]> {
    if (this.unwritten > 0 && !opts.stale) await this.flush();
    const terms = queryTerms(query.q);
    if (terms.length === 0) return [];
    if (Array.isArray(query.issues) && query.issues.length === 0) return [];
    const limit = Math.min(Math.max(query.limit ?? 20, 1), 200);
    const byType = query.agentType ? sql`and agent_type = ${query.agentType}` : sql``;
    const inIssues = query.issues === '*' ? sql`` : sql`and issue_id in (${sql.join(query.issues)})`;
    const notIssue = query.excludeIssue ? sql`and issue_id <> ${query.excludeIssue}` : sql``;
    if (this.store.dialect === 'sqlite') {
      const expr = terms.map((t) => `"${t}"`).join(' OR ');
      const r = await sql<KnowledgeHit>`select issue_id, agent_type, kind, content, created_at, -bm25(sidecar_knowledge) as score
        from sidecar_knowledge where sidecar_knowledge match ${expr} ${byType} ${inIssues} ${notIssue}
        order by bm25(sidecar_knowledge) limit ${limit}`.execute(this.store.db);
      return r.rows.map(norm);
    }
    const expr = terms.join(' | ');
    const r = await sql<KnowledgeHit>`select issue_id, agent_type, kind, content, created_at, ts_rank(tsv, query) as score
      from sidecar_knowledge, to_tsquery('english', ${expr}) query where tsv @@ query ${byType} ${inIssues} ${notIssue}
      order by score desc, id desc limit ${limit}`.execute(this.store.db);
    return r.rows.map(norm);
  }
}

function norm(h: KnowledgeHit): KnowledgeHit {
  return { ...h, created_at: Number(h.created_at), score: Math.round(Number(h.score) * 1e4) / 1e4 };
}
