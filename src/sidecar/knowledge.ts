import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { Store } from '../store/store.js';
import { preparedQuery } from './prepared.js';
import type { PreparedQuery } from './prepared.js';
import { step } from './sql-writer.js';
import type { StepRef, WriteStep } from './sql-writer.js';

export interface KnowledgeEntry {
  kind: 'decision' | 'result';
  content: string;
}

/** Knowledge rows one result may have (200 decisions and the result text fit). */
const ROWS_PER_RESULT = 1000;

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

  constructor(private readonly store: Store) {
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
   * The write steps replacing what is indexed for one result (one issue and agent type), to run
   * in the transaction that writes the result's row: step `idStep` of that transaction is the
   * row's upsert, returning its `id`. On SQLite the FTS5 rows of result `id` get rowids
   * `id * 1000 + k`, so they are found by a rowid range (FTS5's unindexed columns would need a
   * scan of the whole index); PostgreSQL has a b-tree on (issue_id, agent_type).
   */
  replaceSteps(ref: { idStep: number; issueId: string; agentType: string }, entries: readonly KnowledgeEntry[], now: number): WriteStep[] {
    const rows = entries.filter((e) => e.content.trim()).slice(0, ROWS_PER_RESULT);
    const w = this.write;
    if (w.dialect === 'postgres') {
      // one multi-row insert (one round trip); PostgreSQL numbers the rows itself
      const del = step(w.del({ issue: ref.issueId, type: ref.agentType }));
      if (rows.length === 0) return [del];
      const values = rows.map((e) => sql`(${ref.issueId}, ${ref.agentType}, ${e.kind}, ${e.content}, ${now})`);
      return [del, step(sql`insert into sidecar_knowledge (issue_id, agent_type, kind, content, created_at) values ${sql.join(values)}`.compile(this.store.db))];
    }
    const id = (param: number, add: number): StepRef => ({ param, step: ref.idStep, col: 'id', mul: ROWS_PER_RESULT, add });
    // the rowids the result's previous version indexed (the next step), then one delete each
    const idsStep = ref.idStep + 1;
    const out = [
      step(w.ids({ a: 0, b: 0 }), [id(w.ids.slot('a'), 0), id(w.ids.slot('b'), ROWS_PER_RESULT)]),
      step(w.del({ rowid: 0 }), undefined, { step: idsStep, col: 'id', param: w.del.slot('rowid') }),
    ];
    const rowid = w.ins.slot('rowid');
    for (let k = 0; k < rows.length; k++) {
      const e = rows[k] as KnowledgeEntry;
      out.push(step(w.ins({ rowid: 0, issue: ref.issueId, type: ref.agentType, kind: e.kind, content: e.content, at: now }), [id(rowid, k)]));
    }
    return out;
  }

  async search(query: KnowledgeQuery): Promise<KnowledgeHit[]> {
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
