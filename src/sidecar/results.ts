import { sep, join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { agentIdSchema, agentTypeSchema, issueIdSchema } from './ids.js';
import { writeFileAtomicAsync } from './atomic-write.js';
import type { Knowledge, KnowledgeEntry } from './knowledge.js';

/** `POST /api/results` body, as in the seed (agent_id, agent_type, issue_id, result{...}). */
export const resultInputSchema = z.object({
  agent_id: agentIdSchema,
  agent_type: agentTypeSchema,
  issue_id: issueIdSchema,
  result: z
    .object({
      status: z.enum(['success', 'failed', 'partial', 'blocked', 'in_progress']).default('success'),
      summary: z.string().max(20_000).optional(),
      decisions: z.array(z.string().min(1).max(4000)).max(200).optional(),
      files_created: z.array(z.string().max(1000)).max(5000).optional(),
      files_modified: z.array(z.string().max(1000)).max(5000).optional(),
    })
    .passthrough(),
});
export type ResultInput = z.infer<typeof resultInputSchema>;

export interface StoredResult extends ResultInput {
  stored_at: number;
  file: string;
  bytes: number;
}

export interface ResultSummary {
  issue_id: string;
  agent_type: string;
  agent_id: string;
  status: string | null;
  stored_at: number;
  bytes: number;
}

/**
 * Agent results: the file `results/<issue>/<agent-type>.json` (atomic, fsynced) and a row in the
 * store plus the knowledge index (one transaction), both before the caller acknowledges.
 * A later result of the same agent type for the same issue replaces the earlier one.
 */
export class ResultsRepo {
  private readonly root: string;

  constructor(
    private readonly store: Store,
    resultsDir: string,
    private readonly knowledge: Knowledge,
  ) {
    this.root = resolve(resultsDir);
  }

  /** The file of a result; identifiers are validated, and the path is checked to stay inside. */
  fileOf(issueId: string, agentType: string): string {
    const file = resolve(join(this.root, issueId, `${agentType}.json`));
    if (!file.startsWith(this.root + sep)) throw new AppError(400, 'invalid_request', 'identifier escapes the results folder', { field: 'body.issue_id' });
    return file;
  }

  async save(input: ResultInput): Promise<StoredResult> {
    const file = this.fileOf(input.issue_id, input.agent_type);
    const stored_at = Date.now();
    const doc = { ...input, stored_at };
    const text = JSON.stringify(doc, null, 2);
    const bytes = Buffer.byteLength(text);
    const row = {
      issue_id: input.issue_id,
      agent_type: input.agent_type,
      agent_id: input.agent_id,
      status: input.result.status,
      stored_at,
      file,
      bytes,
      body: JSON.stringify(doc),
    };
    // the file's fsyncs run on the thread pool while the row is committed; both finish before
    // the caller acknowledges
    await Promise.all([
      writeFileAtomicAsync(file, text, 0o600),
      this.store.db.transaction().execute(async (trx) => {
        const saved = await trx
          .insertInto('sidecar_results')
          .values(row)
          .onConflict((oc) => oc.columns(['issue_id', 'agent_type']).doUpdateSet({ agent_id: row.agent_id, status: row.status, stored_at, file, bytes, body: row.body }))
          .returning('id')
          .executeTakeFirstOrThrow();
        await this.knowledge.replace(trx, { resultId: Number(saved.id), issueId: input.issue_id, agentType: input.agent_type }, knowledgeOf(input), stored_at);
      }),
    ]);
    return { ...doc, file, bytes };
  }

  async list(filter: { issueId?: string; agentType?: string; issues: string[] | '*'; limit?: number }): Promise<ResultSummary[]> {
    if (Array.isArray(filter.issues) && filter.issues.length === 0) return [];
    let q = this.store.db
      .selectFrom('sidecar_results')
      .select(['issue_id', 'agent_type', 'agent_id', 'status', 'stored_at', 'bytes'])
      .orderBy('stored_at', 'asc')
      .orderBy('id', 'asc');
    if (filter.issueId) q = q.where('issue_id', '=', filter.issueId);
    if (filter.agentType) q = q.where('agent_type', '=', filter.agentType);
    if (filter.issues !== '*') q = q.where('issue_id', 'in', filter.issues);
    const rows = await q.limit(Math.min(filter.limit ?? 500, 5000)).execute();
    return rows.map((r) => ({ ...r, stored_at: Number(r.stored_at), bytes: Number(r.bytes) }));
  }

  /** Full documents of an issue's results (for context), oldest first. */
  async forIssue(issueId: string): Promise<StoredResult[]> {
    const rows = await this.store.db.selectFrom('sidecar_results').select(['body', 'file', 'bytes']).where('issue_id', '=', issueId).orderBy('stored_at', 'asc').execute();
    return rows.map((r) => ({ ...(JSON.parse(r.body) as ResultInput & { stored_at: number }), file: r.file, bytes: Number(r.bytes) }));
  }

  async get(issueId: string, agentType: string): Promise<StoredResult | undefined> {
    const r = await this.store.db
      .selectFrom('sidecar_results')
      .select(['body', 'file', 'bytes'])
      .where('issue_id', '=', issueId)
      .where('agent_type', '=', agentType)
      .executeTakeFirst();
    return r ? { ...(JSON.parse(r.body) as ResultInput & { stored_at: number }), file: r.file, bytes: Number(r.bytes) } : undefined;
  }

  async stats(): Promise<{ count: number; bytes: number; byStatus: Record<string, number> }> {
    const rows = await this.store.db
      .selectFrom('sidecar_results')
      .select((eb) => ['status', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('bytes').as('b')])
      .groupBy('status')
      .execute();
    const byStatus: Record<string, number> = {};
    let count = 0;
    let bytes = 0;
    for (const r of rows) {
      byStatus[r.status ?? 'unknown'] = Number(r.n);
      count += Number(r.n);
      bytes += Number(r.b ?? 0);
    }
    return { count, bytes, byStatus };
  }
}

/** What of a result goes into the knowledge index: each decision, and a text of the whole. */
export function knowledgeOf(input: ResultInput): KnowledgeEntry[] {
  const out: KnowledgeEntry[] = (input.result.decisions ?? []).map((d) => ({ kind: 'decision', content: d }));
  const words: string[] = [];
  collectText(input.result, words, 0);
  const text = words.join(' ').slice(0, 16_000);
  if (text) out.push({ kind: 'result', content: text });
  return out;
}

function collectText(v: unknown, out: string[], depth: number): void {
  if (depth > 6 || out.length > 2000) return;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectText(x, out, depth + 1);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) collectText(x, out, depth + 1);
}
