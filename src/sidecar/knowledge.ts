import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, Store } from '../store/store.js';

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
  constructor(private readonly store: Store) {}

  /**
   * Replaces what is indexed for one result (one issue and agent type) inside the caller's
   * transaction. On SQLite the FTS5 rows of result `resultId` get rowids
   * `resultId * 1000 + k`, so they are found by a rowid range (FTS5's unindexed columns would
   * need a scan of the whole index); PostgreSQL has a b-tree on (issue_id, agent_type).
   */
  async replace(db: Kysely<Database>, ref: { resultId: number; issueId: string; agentType: string }, entries: readonly KnowledgeEntry[], now: number): Promise<void> {
    const rows = entries.filter((e) => e.content.trim()).slice(0, ROWS_PER_RESULT);
    if (this.store.dialect === 'sqlite') {
      const base = ref.resultId * ROWS_PER_RESULT;
      await sql`delete from sidecar_knowledge where rowid >= ${base} and rowid < ${base + ROWS_PER_RESULT}`.execute(db);
      if (rows.length) {
        const values = rows.map((e, k) => sql`(${base + k}, ${ref.issueId}, ${ref.agentType}, ${e.kind}, ${e.content}, ${now})`);
        await sql`insert into sidecar_knowledge (rowid, issue_id, agent_type, kind, content, created_at) values ${sql.join(values)}`.execute(db);
      }
      return;
    }
    await sql`delete from sidecar_knowledge where issue_id = ${ref.issueId} and agent_type = ${ref.agentType}`.execute(db);
    // one statement for all rows (at most 201: 200 decisions and the result text)
    if (rows.length) {
      const values = rows.map((e) => sql`(${ref.issueId}, ${ref.agentType}, ${e.kind}, ${e.content}, ${now})`);
      await sql`insert into sidecar_knowledge (issue_id, agent_type, kind, content, created_at) values ${sql.join(values)}`.execute(db);
    }
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
