import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { sep, join, resolve } from 'node:path';
import type { CompiledQuery } from 'kysely';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { ResultFiles } from './durable-files.js';
import { PendingRepairs } from './result-repairs.js';
import type { FileWrite } from './durable-files.js';
import type { Knowledge } from './knowledge.js';
import { preparedQuery } from './prepared.js';
import { StoreWriter, step } from '../store/sql-writer.js';
import type { SqlWriter } from '../store/sql-writer.js';
import { knowledgeOf, parseDocument, readableText } from './result-document.js';
import type { ResultInput } from './result-document.js';
import { Rounds, lastPerFile } from './result-rounds.js';
import type { FilePart } from './result-rounds.js';
import { comparedStampIn, reindexMarkerIn, resultFolderLister, resultKey } from './result-folders.js';
import type { OnDisk, ResultFolderLister } from './result-folders.js';

export { knowledgeOf, readableText, resultInputSchema } from './result-document.js';
export type { ResultInput } from './result-document.js';
export { requestResultsReindex, resultFolderLister } from './result-folders.js';
export type { OnDisk, ResultFolderLister } from './result-folders.js';

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

/** What a row round commits: a result's row (and then its knowledge entries). */
interface RowPart extends FilePart {
  row: ResultRow;
  input: ResultInput;
}

/** One result waiting for its file and its row to be durable. */
interface Job {
  file: string;
  text: string;
  stored: StoredResult;
  /** Parts (file, row) still to be durable. */
  left: number;
  fileError?: unknown;
  rowError?: unknown;
  resolve(r: StoredResult): void;
  reject(e: unknown): void;
}

interface ResultRow {
  issue_id: string;
  agent_type: string;
  agent_id: string;
  status: string;
  stored_at: number;
  file: string;
  bytes: number;
  body: string;
}

/** Files per round at most (one fdatasync each round). */
const MAX_FILES = 256;
/**
 * Text per file round at most: a round's texts are copied into the file thread's heap (and once
 * more as journal frames). 60 results of 1 MB in one round ran its 64 MB heap out, which failed
 * every result of the round while their rows were committed.
 */
const MAX_ROUND_BYTES = 8 * 1024 * 1024;
/**
 * Rows per transaction at most: the writer runs one transaction at a time, and an event insert
 * given meanwhile waits for it (~15 µs per row on SQLite; the knowledge entries are indexed
 * later, in batches of their own).
 */
const MAX_ROWS = 64;
/**
 * Result files a start's re-index reads per round (one transaction of rows, then their
 * knowledge), and their text per round at most: thousands of files go in bounded steps.
 */
const REINDEX_FILES = 64;
const REINDEX_BYTES = 8 * 1024 * 1024;
/** Skipped files a start names in its log (the rest are counted). */
const SKIPPED_NAMED = 20;

/**
 * Agent results: the file `results/<issue>/<agent-type>.json` (atomic, fsynced with its folder)
 * and a row in the store, both before the caller acknowledges; then the knowledge index, in
 * batches (see `Knowledge.index`: a search waits for them, a start indexes what a crash left
 * out). A later result of the same agent type for the same issue replaces the earlier one.
 *
 * Group commit: results that arrive while a round is running wait and then share the next one.
 * Rows commit in rounds of one transaction on the sidecar's SqlWriter (on SQLite a thread with
 * its own connection); files in rounds of one journal append + fdatasync on the file thread,
 * then one atomic replace per file (see ResultFiles). The two kinds of rounds run independently; each caller resolves only once
 * its own file and its own row are durable.
 *
 * When either half fails, the file is made to follow the row (what GET, lists and context serve):
 * rewritten from it, or removed when there is none — through the file rounds and so the journal,
 * which recovery then agrees with. A result whose row committed and whose file is then written
 * after all is stored; otherwise the caller gets the error. Only the newest result for a file
 * does this: a newer one rewrites file and row anyway.
 */
export class ResultsRepo {
  private readonly root: string;
  private readonly files: ResultFiles;
  private readonly fileRounds: Rounds<FilePart>;
  private readonly rowRounds: Rounds<RowPart>;
  /** The newest result per file not yet settled (only it repairs a failure, see the class comment). */
  private readonly newest = new Map<string, Job>();
  private readonly upsert: (v: ResultRow) => CompiledQuery;
  /** A row inserted unless one exists (the re-index never replaces a row). */
  private readonly insertAbsent: (v: ResultRow) => CompiledQuery;
  private readonly logger: Logger | undefined;
  private readonly writer: SqlWriter;
  /** Saves whose file must still follow the row (see `repair`), and the timers retrying them. */
  private readonly repairs: PendingRepairs;
  private readonly repairTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** The last `stored_at` given (see `save`). */
  private lastStoredAt = 0;
  /** Context builds read an issue's results often: compiled once. */
  private readonly ofIssue: (v: { issue: string }) => CompiledQuery;
  private readonly lister: ResultFolderLister;

  constructor(
    private readonly store: Store,
    resultsDir: string,
    private readonly knowledge: Knowledge,
    opts: { files?: ResultFiles; writer?: SqlWriter; maxResultBytes?: number; logger?: Logger; lister?: ResultFolderLister } = {},
  ) {
    this.root = resolve(resultsDir);
    this.lister = opts.lister ?? resultFolderLister;
    this.logger = opts.logger;
    this.repairs = new PendingRepairs(join(this.root, '.repairs'));
    this.files = opts.files ?? new ResultFiles(this.root, opts.maxResultBytes ? { maxItemBytes: opts.maxResultBytes } : {});
    this.writer = opts.writer ?? new StoreWriter(store);
    // files and rows commit in rounds of their own (a slow fsync does not hold up the next
    // transaction, nor a long transaction the next fsync); each job settles when both are done
    this.fileRounds = new Rounds(async (batch) => {
      const winners = lastPerFile(batch);
      const errors = await this.files.write(winners.map((p) => ({ file: p.file, data: p.text })));
      const byFile = new Map(winners.map((p, i) => [p.file, errors[i]]));
      return batch.map((p) => byFile.get(p.file));
    }, MAX_FILES, MAX_ROUND_BYTES);
    this.rowRounds = new Rounds(async (batch) => {
      const winners = lastPerFile(batch);
      const rows = await this.writer.run(winners.map((p) => step(this.upsert(p.row))));
      winners.forEach((p, i) => this.indexKnowledge(Number(rows[i]?.[0]?.id), p.row.stored_at, p.input));
      return batch.map(() => undefined);
    }, MAX_ROWS);
    this.ofIssue = preparedQuery(['issue'], (p) => store.db.selectFrom('sidecar_results').select(['body', 'file', 'bytes']).where('issue_id', '=', p.issue).orderBy('stored_at', 'asc'));
    const cols = ['issue_id', 'agent_type', 'agent_id', 'status', 'stored_at', 'file', 'bytes', 'body'] as const;
    this.upsert = preparedQuery(cols, (p) =>
      store.db
        .insertInto('sidecar_results')
        .values(p as unknown as ResultRow)
        .onConflict((oc) => oc.columns(['issue_id', 'agent_type']).doUpdateSet({ agent_id: p.agent_id, status: p.status, stored_at: p.stored_at as unknown as number, file: p.file, bytes: p.bytes as unknown as number, body: p.body }))
        .returning('id'),
    );
    this.insertAbsent = preparedQuery(cols, (p) =>
      store.db
        .insertInto('sidecar_results')
        .values(p as unknown as ResultRow)
        .onConflict((oc) => oc.columns(['issue_id', 'agent_type']).doNothing())
        .returning('id'),
    );
  }

  /** The file of a result; identifiers are validated, and the path is checked to stay inside. */
  fileOf(issueId: string, agentType: string): string {
    const file = resolve(join(this.root, issueId, `${agentType}.json`));
    if (!file.startsWith(this.root + sep)) throw new AppError(400, 'invalid_request', 'identifier escapes the results folder', { field: 'body.issue_id' });
    return file;
  }

  /**
   * At start. After a crash: settles what the result journals hold (see ResultFiles). Per file
   * the newest of the journal's content and the store's row wins, and file and row are made
   * equal to it (a power loss may have lost the last commits of either). Then result files with
   * no row (the database deleted, replaced or restored from an older backup) are indexed again
   * (see `reindexFiles`): by default only when the store knows fewer issues than the folder has
   * issue folders (see `reindexNeeded`); `{ reindexAll: true }`, or the marker
   * `requestResultsReindex` leaves (`cco daemon restart --reindex-results`), compares every file
   * with the rows. Returns how many results it recovered: files rewritten and files re-indexed.
   */
  async recover(opts: { reindexAll?: boolean } = {}): Promise<number> {
    // decided before the journals are settled: they may give a brand-new store its first rows
    const folders = this.lister.issueFolderCount(this.root);
    const reindex = opts.reindexAll === true || existsSync(this.reindexMarker) || (await this.reindexNeeded(folders));
    let n = await this.recoverJournals();
    n += await this.recoverMarkedRepairs();
    if (reindex) {
      // A re-index commits round by round: one cut short (a kill, a store failing) leaves rows
      // that would hide the rest from `reindexNeeded`. The marker says "not finished" until it is.
      mkdirSync(this.root, { recursive: true });
      writeFileSync(this.reindexMarker, `${new Date().toISOString()}\n`, { mode: 0o600 });
      n += await this.reindexFiles();
      writeFileSync(this.comparedStamp, `${folders}\n`, { mode: 0o600 });
      rmSync(this.reindexMarker, { force: true });
    }
    await this.indexPending();
    return n;
  }

  /** Present while a re-index of the result files has not finished, or asked for (see `recover`). */
  private get reindexMarker(): string {
    return reindexMarkerIn(this.root);
  }

  /** How many issue folders the last full comparison saw (see `reindexNeeded`). */
  private get comparedStamp(): string {
    return comparedStampIn(this.root);
  }

  /**
   * Whether a start must compare the result files with the rows, decided cheaply: listing every
   * file grows with the results (75 ms for 5,000), on every start, against a cold start of
   * 400-600 ms. The comparison is there for a store that lost rows: deleted or replaced (the
   * advice for "database locked"), or restored from an older backup. Such a store knows fewer
   * issues than the folder has issue folders: one count over the rows' index and one read of the
   * folder's top level. Folders that hold no valid result (left by hand) would ask for it at every
   * start: it is not asked again while the folder count is the one the last comparison saw.
   *
   * Not covered: a store that lacks results of issues it has other results of (an older backup
   * taken between two agents of one issue), or another daemon's rows in a shared database
   * covering the count. `cco daemon restart --reindex-results` compares every file.
   */
  private async reindexNeeded(folders: number): Promise<boolean> {
    if (folders === 0) return false;
    const row = await this.store.db
      .selectFrom('sidecar_results')
      .select((eb) => eb.fn.count<number | string>('issue_id').distinct().as('n'))
      .executeTakeFirst();
    if (Number(row?.n ?? 0) >= folders) return false;
    return readText(this.comparedStamp)?.trim() !== String(folders);
  }

  /**
   * Result files that have no row in the store get it back, with their knowledge entries: the
   * files are the durable copy of every acknowledged result, and deleting the database (the
   * guide's advice for "database locked") must not lose them. Files with a row are left alone;
   * a file that is no valid result document, or whose document names another issue or agent
   * type than its place, is skipped. Runs in rounds of bounded files and bytes.
   */
  private async reindexFiles(): Promise<number> {
    const files = this.lister.resultFiles(this.root);
    if (files.length === 0) return 0;
    const rows = await this.store.db.selectFrom('sidecar_results').select(['issue_id', 'agent_type']).execute();
    const known = new Set(rows.map((r) => resultKey(r.issue_id, r.agent_type)));
    const orphans = files.filter((f) => !known.has(resultKey(f.issueId, f.agentType)));
    let reindexed = 0;
    const skipped: string[] = [];
    for (let i = 0; i < orphans.length; ) {
      const round: { row: ResultRow; input: ResultInput }[] = [];
      for (let bytes = 0, n = 0; i < orphans.length && n < REINDEX_FILES && (n === 0 || bytes < REINDEX_BYTES); i++, n++) {
        const f = orphans[i] as OnDisk;
        const text = readText(f.file);
        const found = text === undefined ? undefined : this.rowOfFile(f, text);
        if (found) round.push(found);
        else skipped.push(f.file);
        bytes += text?.length ?? 0;
      }
      if (round.length === 0) continue;
      const ids = await this.writer.run(round.map((r) => step(this.insertAbsent(r.row))));
      round.forEach((r, k) => {
        // no id: a row appeared meanwhile (another daemon on the same database), and it stays
        const id = Number(ids[k]?.[0]?.id);
        if (!Number.isFinite(id)) return;
        reindexed++;
        this.indexKnowledge(id, r.row.stored_at, r.input);
      });
      await this.knowledge.flush();
    }
    if (reindexed) this.logger?.info({ files: reindexed }, 'sidecar: re-indexed result files that had no row in the store');
    if (skipped.length) {
      this.logger?.warn(
        { count: skipped.length, files: skipped.slice(0, SKIPPED_NAMED) },
        'sidecar: skipped result files that are not valid result documents (they stay on disk; fix or remove them and restart to index them)',
      );
    }
    return reindexed;
  }

  /** The row a result file's text stands for, or undefined when it is no result document of its place. */
  private rowOfFile(f: OnDisk, text: string): { row: ResultRow; input: ResultInput } | undefined {
    const parsed = parseDocument(text);
    if (!parsed || parsed.input.issue_id !== f.issueId || parsed.input.agent_type !== f.agentType) return undefined;
    const { input, storedAt, doc } = parsed;
    const row: ResultRow = {
      issue_id: input.issue_id,
      agent_type: input.agent_type,
      agent_id: input.agent_id,
      status: input.result.status,
      stored_at: storedAt,
      file: f.file,
      bytes: Buffer.byteLength(text),
      body: JSON.stringify(doc),
    };
    return { row, input };
  }

  /** Files a failed save left to follow their rows while the store was unreadable (see `repair`). */
  private async recoverMarkedRepairs(): Promise<number> {
    const marked = this.repairs.files().filter((m) => m.file.startsWith(this.root + sep));
    const items: FileWrite[] = [];
    for (const file of new Set(marked.map((m) => m.file))) {
      const ids = this.idsOf(file);
      if (ids) items.push({ file, data: await this.rowTextOf(...ids) });
    }
    await this.files.finishRecovery([], items);
    for (const m of this.repairs.files()) this.repairs.clear(m.file, m.storedAt);
    return items.length;
  }

  /**
   * Indexes the knowledge of results whose row says it is not (a crash between the row's commit
   * and its entries'), and waits until it is written.
   */
  private async indexPending(): Promise<void> {
    const rows = await this.knowledge.unindexed();
    for (const r of rows) {
      const parsed = parseDocument(r.body);
      if (parsed) this.indexKnowledge(Number(r.id), Number(r.stored_at), parsed.input);
    }
    if (rows.length) await this.knowledge.flush();
  }

  private indexKnowledge(id: number, storedAt: number, input: ResultInput): void {
    // (an upsert returns the row's id; without one there is no row to index)
    if (Number.isFinite(id)) this.knowledge.index({ id, issueId: input.issue_id, agentType: input.agent_type, storedAt, entries: knowledgeOf(input) });
  }

  private async recoverJournals(): Promise<number> {
    const { journals, entries } = this.files.pendingJournals();
    if (journals.length === 0) return 0;
    const items: FileWrite[] = [];
    const rows: ResultRow[] = [];
    // The file a result belongs to is where its document says, under this results folder: a
    // journal written before the folder moved (CCO_HOME moved) names the old path. The newest
    // document per file wins.
    const newest = new Map<string, { data: string; parsed: NonNullable<ReturnType<typeof parseDocument>> }>();
    const removed: string[] = [];
    for (const e of entries) {
      if (e.data === null) {
        // a file made to follow its row after a failed save (see the class comment)
        if (e.file.startsWith(this.root + sep)) removed.push(e.file);
        continue;
      }
      const parsed = parseDocument(e.data);
      if (!parsed) continue;
      let file: string;
      try {
        file = this.fileOf(parsed.input.issue_id, parsed.input.agent_type);
      } catch {
        continue;
      }
      const had = newest.get(file);
      if (!had || had.parsed.storedAt <= parsed.storedAt) newest.set(file, { data: e.data, parsed });
    }
    for (const [file, { data, parsed }] of newest) {
      const { input, storedAt, doc } = parsed;
      const cur = await this.rowOf(input.issue_id, input.agent_type);
      if (cur && Number(cur.stored_at) >= storedAt) {
        items.push({ file, data: readableText(JSON.parse(cur.body), cur.body) });
        continue;
      }
      items.push({ file, data });
      const body = JSON.stringify(doc);
      rows.push({ issue_id: input.issue_id, agent_type: input.agent_type, agent_id: input.agent_id, status: input.result.status, stored_at: storedAt, file, bytes: Buffer.byteLength(data), body });
    }
    for (const file of removed) {
      if (newest.has(file)) continue;
      const ids = this.idsOf(file);
      items.push({ file, data: ids ? await this.rowTextOf(...ids) : null });
    }
    // their knowledge is indexed with the rest of what is unindexed (`indexPending`)
    if (rows.length) await this.writer.run(rows.map((r) => step(this.upsert(r))));
    await this.files.finishRecovery(journals, items);
    return items.length;
  }

  /** What a result file must hold to follow its row: the row's document, or null (no row, no file). */
  private async rowTextOf(issueId: string, agentType: string): Promise<string | null> {
    const cur = await this.rowOf(issueId, agentType);
    return cur ? readableText(JSON.parse(cur.body), cur.body) : null;
  }

  /** The issue and agent type of a file `results/<issue>/<agent-type>.json` under this folder. */
  private idsOf(file: string): [string, string] | undefined {
    const rel = file.slice(this.root.length + 1).split(sep);
    return rel.length === 2 ? [rel[0] as string, (rel[1] as string).replace(/\.json$/, '')] : undefined;
  }

  /** The store's row of a result (its document and version), or undefined. */
  private rowOf(issueId: string, agentType: string) {
    return this.store.db.selectFrom('sidecar_results').select(['body', 'stored_at']).where('issue_id', '=', issueId).where('agent_type', '=', agentType).executeTakeFirst();
  }

  /** Starts the file writer threads (and the row writer's) ahead of the first result. */
  warm(): void {
    this.files.warm();
    this.writer.warm();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.repairTimers) clearTimeout(t);
    this.repairTimers.clear();
    await this.files.close();
    await this.knowledge.flush();
  }

  /** Stores a result; resolves once its file and its row are durable (its knowledge entries follow). */
  save(input: ResultInput): Promise<StoredResult> {
    const file = this.fileOf(input.issue_id, input.agent_type);
    // strictly increasing: stored_at tells a result's version apart (a repair decides "the row is
    // mine" by it, the knowledge index "already indexed"), and two saves of one result within a
    // millisecond had the same one: a failed row could be answered 201 with the other's content
    const stored_at = (this.lastStoredAt = Math.max(Date.now(), this.lastStoredAt + 1));
    const doc = { ...input, stored_at };
    const compact = JSON.stringify(doc);
    const text = readableText(doc, compact);
    const bytes = Buffer.byteLength(text);
    const row: ResultRow = {
      issue_id: input.issue_id,
      agent_type: input.agent_type,
      agent_id: input.agent_id,
      status: input.result.status,
      stored_at,
      file,
      bytes,
      body: compact,
    };
    return new Promise<StoredResult>((resolve, reject) => {
      const job: Job = { file, text, stored: { ...doc, file, bytes }, left: 2, resolve, reject };
      this.newest.set(file, job);
      this.fileRounds.add({ file, text, done: (e) => this.partDone(job, 'file', e) });
      this.rowRounds.add({ file, text, row, input, done: (e) => this.partDone(job, 'row', e) });
    });
  }

  private partDone(job: Job, part: 'file' | 'row', error: unknown): void {
    if (error !== undefined) {
      if (part === 'file') job.fileError = error;
      else job.rowError = error;
    }
    if (--job.left > 0) return;
    const newest = this.newest.get(job.file) === job;
    if (job.fileError === undefined && job.rowError === undefined) {
      if (newest) this.newest.delete(job.file);
      job.resolve(job.stored);
    } else if (newest) void this.repair(job);
    else job.reject(job.fileError ?? job.rowError);
  }

  /** After a failed half: the file follows the row (see the class comment). */
  private async repair(job: Job): Promise<void> {
    let stored = false;
    try {
      const { issue_id, agent_type, stored_at } = job.stored;
      const cur = await this.rowOf(issue_id, agent_type);
      // a newer result, saved meanwhile, writes file and row itself (and its file comes after this one's)
      if (this.newest.get(job.file) === job) {
        // the row is this result's (a failed commit may have been written after all: a write
        // thread that died after its commit)
        const own = cur !== undefined && Number(cur.stored_at) === stored_at;
        const text = own ? job.text : cur ? readableText(JSON.parse(cur.body), cur.body) : null;
        await new Promise<void>((resolve, reject) => this.fileRounds.add({ file: job.file, text, done: (e) => (e === undefined ? resolve() : reject(e)) }));
        stored = own;
      }
    } catch {
      // The store cannot be read (what the file must hold is not known yet), or the file could not
      // be made to follow (the disk refuses): the caller gets the first error, and the file follows
      // the row later. A durable marker first (a restart repairs it, when the journal of the
      // file's write is long gone), then retries while the process lives. Before, a committed row
      // could stay beside a missing or older file for good.
      if (this.newest.get(job.file) === job) {
        const { issue_id, agent_type, stored_at } = job.stored;
        try {
          this.repairs.mark(job.file, stored_at);
        } catch {
          // the marker's disk refuses too: the retries still run
        }
        if (!this.closed) this.retryRepair(job.file, issue_id, agent_type, stored_at, 0);
      }
    } finally {
      if (this.newest.get(job.file) === job) this.newest.delete(job.file);
    }
    if (stored) job.resolve(job.stored);
    else job.reject(job.fileError ?? job.rowError);
  }

  /** Tries a marked repair again later, backing off to 30 s, until it is done or a newer save takes over. */
  private retryRepair(file: string, issueId: string, agentType: string, storedAt: number, attempt: number): void {
    const t = setTimeout(() => {
      this.repairTimers.delete(t);
      // closing: the marker stays, and the next start repairs
      if (this.closed) return;
      // a save in flight writes file and row itself (and marks its own repair should it fail)
      if (this.newest.has(file)) {
        this.repairs.clear(file, storedAt);
        return;
      }
      this.followRow(file, issueId, agentType).then(
        () => this.repairs.clear(file, storedAt),
        () => this.retryRepair(file, issueId, agentType, storedAt, attempt + 1),
      );
    }, Math.min(30_000, 250 * 2 ** Math.min(attempt, 7)));
    t.unref();
    this.repairTimers.add(t);
  }

  /** Rewrites a result file from its row (removes it when there is none), through the journal. */
  private async followRow(file: string, issueId: string, agentType: string): Promise<void> {
    const text = await this.rowTextOf(issueId, agentType);
    await new Promise<void>((resolve, reject) => this.fileRounds.add({ file, text, done: (e) => (e === undefined ? resolve() : reject(e)) }));
  }

  /**
   * A page of result summaries: the newest `limit` after skipping the `offset` newest (with more
   * than `limit` stored, the oldest were listed and new ones never), shown oldest first; and
   * `total`, how many match, so that a client pages on with `offset += limit` until it is reached.
   */
  async list(filter: { issueId?: string; agentType?: string; issues: string[] | '*'; limit?: number; offset?: number }): Promise<{ results: ResultSummary[]; total: number }> {
    if (Array.isArray(filter.issues) && filter.issues.length === 0) return { results: [], total: 0 };
    let q = this.store.db.selectFrom('sidecar_results');
    if (filter.issueId) q = q.where('issue_id', '=', filter.issueId);
    if (filter.agentType) q = q.where('agent_type', '=', filter.agentType);
    if (filter.issues !== '*') q = q.where('issue_id', 'in', filter.issues);
    const [rows, count] = await Promise.all([
      q
        .select(['issue_id', 'agent_type', 'agent_id', 'status', 'stored_at', 'bytes'])
        .orderBy('stored_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(filter.limit ?? 500, 5000))
        .offset(filter.offset ?? 0)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ]);
    return { results: rows.reverse().map((r) => ({ ...r, stored_at: Number(r.stored_at), bytes: Number(r.bytes) })), total: Number(count?.n ?? 0) };
  }

  /** Full documents of an issue's results (for context), oldest first. */
  async forIssue(issueId: string): Promise<StoredResult[]> {
    const rows = (await this.store.db.executeQuery<{ body: string; file: string; bytes: number }>(this.ofIssue({ issue: issueId }))).rows;
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

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
