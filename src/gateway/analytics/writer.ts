import type { Insertable } from 'kysely';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../store/store.js';
import type { GatewayRequestsTable } from '../../store/tables/gateway.js';
import { StoreWriter } from '../../store/sql-writer.js';
import type { RunOptions, SqlWriter, WriteStep } from '../../store/sql-writer.js';
import type { RequestRecord } from './record.js';

type Row = Insertable<GatewayRequestsTable>;

/** The inserted columns, in the order of `toValues`. */
const COLUMNS = [
  'request_id', 'ts', 'endpoint', 'client_format', 'provider', 'route', 'model', 'upstream_model', 'status', 'error_type', 'stream', 'cache_hit',
  'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_input', 'cost_output', 'cost_cache_write', 'cost_cache_read', 'cost_total', 'cost_saved',
  'latency_ms', 'ttft_ms', 'retries', 'fallback_from', 'session_id', 'agent_id', 'parent_agent_id', 'client', 'project', 'cache_key',
] as const satisfies readonly (keyof Row)[];

type Values = (string | number | null)[];
/** Where `toValues` puts the request id and its time. */
const ID = COLUMNS.indexOf('request_id');
const TS = COLUMNS.indexOf('ts');

/** A request record as the row's values, in `COLUMNS` order (no intermediate object on the hot path). */
function toValues(r: RequestRecord): Values {
  return [
    r.id, r.ts, r.endpoint, r.clientFormat, r.provider || 'none', r.route || 'none', r.model || '(none)', r.upstreamModel || r.model || '(none)', r.status, r.errorType, r.stream ? 1 : 0, r.cacheHit ? 1 : 0,
    r.usage.input, r.usage.output, r.usage.cacheRead, r.usage.cacheWrite, r.cost.input, r.cost.output, r.cost.cacheWrite, r.cost.cacheRead, r.cost.total, r.costSaved,
    Math.round(r.latencyMs), r.ttftMs === null ? null : Math.round(r.ttftMs), r.retries, r.fallbackFrom, r.sessionId, r.agentId, r.parentAgentId, r.client, r.project, r.cacheKey,
  ];
}

/**
 * Rows per insert statement. A transaction's rows (at most TRANSACTION_ROWS) are written as
 * statements of these sizes (64 rows: 32 × 2; 50 rows: 32 + 16 + 2), so only a handful of distinct SQL texts exist: each is compiled by Kysely once and
 * (SQLite) prepared once by the store's statement cache (32 rows stay under its 4 KB bound).
 */
const CHUNKS = [32, 16, 8, 4, 2, 1] as const;

/** Rows per transaction: about half a millisecond of SQLite work on this thread. */
const TRANSACTION_ROWS = 64;

/**
 * Rows that make the writer flush before its timer: one transaction's worth. A row waiting for a
 * bigger batch lives long enough to be promoted to V8's old generation and die there (at 1,000
 * requests/s, a 200-row batch waited ~200 ms, two scavenges of the gateway's capped young
 * generation): such rows made up about a tenth of what the gateway promoted per request, and
 * promoted garbage is what brings on the mark-compacts that stall the event loop. Same
 * transactions either way (at most 64 rows each).
 */
const FLUSH_ROWS = TRANSACTION_ROWS;

export interface WriterOptions {
  /** Flush when this many rows wait (default 64, see FLUSH_ROWS). */
  batchSize?: number;
  /** Flush at least this often (default 250 ms). */
  intervalMs?: number;
  /** Rows kept when the database is unreachable; the oldest are dropped past it (checked every 1,000 rows). */
  maxPending?: number;
  /**
   * Where the transactions run: the store's writer thread on a SQLite file (`sqlWriterFor`), the
   * store's own connection by default.
   */
  sql?: SqlWriter;
}

/**
 * Writes analytics rows in batches off the hot path: `add()` only pushes to an array; a timer
 * (or a full batch) inserts them in one transaction. `flush()` waits for everything added so far.
 *
 * On a writer thread (a SQLite file) a full batch is posted at once and nothing waits for the
 * answer: the inserts and commits cost the event loop nothing (~12 µs a row on it, measured) and
 * the thread commits every batch waiting for it together. On the store's connection (PostgreSQL,
 * SQLite in memory) one transaction at a time, letting the event loop through between them.
 */
export class AnalyticsWriter {
  private pending: Values[] = [];
  private readonly sql = new Map<number, string>();
  private closed = false;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  private readonly sqlWriter: SqlWriter;
  private readonly threaded: boolean;
  /** Threaded: the batches posted and not yet answered. */
  private readonly inflight = new Set<Promise<void>>();
  /** A write failed (the database went away): rows wait for the retry timer, not for the next full batch. */
  private retrying = false;
  /**
   * Rows of a transaction that failed without a word on its outcome: the writer thread died, or
   * the connection dropped, possibly after the commit. Before they are written again, the ones
   * already in the table are left out (see `unwritten`), so a request is never counted twice.
   */
  private readonly uncertain = new WeakSet<Values>();
  private anyUncertain = false;
  written = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    opts: WriterOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? FLUSH_ROWS;
    this.intervalMs = opts.intervalMs ?? 250;
    this.maxPending = opts.maxPending ?? 50_000;
    this.sqlWriter = opts.sql ?? new StoreWriter(store);
    this.threaded = this.sqlWriter.kind === 'thread';
  }

  add(r: RequestRecord): void {
    if (this.closed) {
      // A request that ended after shutdown began (its socket was force-closed): too late to write.
      this.dropped++;
      return;
    }
    this.pending.push(toValues(r));
    // Past the bound (database unreachable), the oldest rows go, a thousand at a time (amortised).
    if (this.pending.length > this.maxPending + 1000) {
      const over = this.pending.length - this.maxPending;
      this.dropped += over;
      this.pending.splice(0, over);
    }
    if (this.pending.length >= this.batchSize && !this.retrying) {
      if (this.threaded) this.post();
      // One drain at a time: it keeps writing until nothing is pending.
      else if (!this.draining) {
        this.draining = true;
        void this.flush();
      }
    } else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Inserts every row added so far; resolves when they are in the database. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.threaded) {
      this.post();
      return this.settled();
    }
    this.flushing = this.flushing.then(() => this.writeAll());
    return this.flushing;
  }

  /** Threaded: hands every pending row to the thread, in transactions of at most TRANSACTION_ROWS. */
  private post(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.pending.length) {
      const batch = this.pending.splice(0, TRANSACTION_ROWS);
      const p: Promise<void> = this.insert(batch, { now: true })
        .then(
          () => this.wrote(batch.length),
          async (e: unknown) => void (await this.failed(batch, e)),
        )
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  /** Threaded: resolves once every batch posted so far (and any posted meanwhile) is answered. */
  private async settled(): Promise<void> {
    while (this.inflight.size) await Promise.all(this.inflight);
  }

  private wrote(rows: number): void {
    this.written += rows;
    this.lastError = undefined;
    this.retrying = false;
  }

  /**
   * A batch the database did not take. A row refused for its values would fail every retry and
   * hold back every row behind it: such rows are written one by one and the refused ones dropped.
   * The rest wait for a retry (the database went away). Returns whether rows wait.
   */
  private async failed(batch: Values[], e: unknown): Promise<boolean> {
    const left = isDataError(e) ? await this.insertEachDroppingRefused(batch) : batch;
    if (!left.length) return false;
    this.lastError = (e as Error).message;
    this.logger.warn({ err: this.lastError, rows: left.length }, 'analytics write failed; will retry');
    for (const row of left) this.uncertain.add(row);
    this.anyUncertain = true;
    this.pending.unshift(...left);
    if (!this.closed) {
      this.retrying = true;
      this.timer ??= setTimeout(() => {
        this.retrying = false;
        void this.flush();
      }, Math.max(1000, this.intervalMs));
      // A database that stays down must not keep the process alive.
      this.timer.unref();
    }
    return true;
  }

  private async writeAll(): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.draining = false;
    }
  }

  private async drain(): Promise<void> {
    let first = true;
    while (this.pending.length) {
      // SQLite inserts run on this thread: write at most TRANSACTION_ROWS rows, then let the
      // requests waiting on the event loop through before the next transaction.
      if (!first) await new Promise<void>((r) => setImmediate(r));
      first = false;
      const batch = this.pending.splice(0, Math.min(this.batchSize, TRANSACTION_ROWS));
      try {
        await this.insert(batch);
      } catch (e) {
        if (await this.failed(batch, e)) return;
        continue;
      }
      this.wrote(batch.length);
    }
  }

  /**
   * Writes rows one at a time; a row refused for its values is dropped (counted, logged). Returns
   * the rows not written when another kind of error stops it (the database went away).
   */
  private async insertEachDroppingRefused(batch: Values[]): Promise<Values[]> {
    for (let i = 0; i < batch.length; i++) {
      try {
        await this.insert([batch[i] as Values]);
        this.written++;
      } catch (e) {
        if (!isDataError(e)) return batch.slice(i);
        this.dropped++;
        this.lastError = (e as Error).message;
        this.logger.warn({ err: this.lastError, request: batch[i]?.[0] }, 'analytics row refused by the database; dropped');
      }
    }
    return [];
  }

  /** Inserts rows in one transaction of a few multi-row statements of fixed sizes (see CHUNKS). */
  private async insert(rows: Values[], opts?: RunOptions): Promise<void> {
    const batch = this.anyUncertain ? await this.unwritten(rows) : rows;
    if (!batch.length) return;
    const steps: WriteStep[] = [];
    let i = 0;
    for (const n of CHUNKS) {
      while (batch.length - i >= n) {
        const params: (string | number | null)[] = [];
        for (let j = i; j < i + n; j++) for (const v of batch[j] as Values) params.push(v);
        steps.push({ sql: this.insertSql(n), parameters: params });
        i += n;
      }
    }
    await this.sqlWriter.run(steps, opts);
  }

  /**
   * The rows not yet in the table: those of a failed transaction (`uncertain`) are looked up by
   * their request ids within their time span (the `ts` index), and the ones found are left out.
   * Only after a failure, so the hot path never reads.
   */
  private async unwritten(rows: Values[]): Promise<Values[]> {
    const doubtful = rows.filter((r) => this.uncertain.has(r));
    if (!doubtful.length) return rows;
    const ts = doubtful.map((r) => r[TS] as number);
    const found = await this.store.db
      .selectFrom('gateway_requests')
      .select('request_id')
      .where('ts', '>=', Math.min(...ts))
      .where('ts', '<=', Math.max(...ts))
      .where('request_id', 'in', doubtful.map((r) => r[ID] as string))
      .execute();
    for (const r of doubtful) this.uncertain.delete(r);
    if (!found.length) return rows;
    const written = new Set(found.map((f) => f.request_id));
    const doubted = new Set(doubtful);
    const left = rows.filter((r) => !(doubted.has(r) && written.has(r[ID] as string)));
    this.logger.info({ rows: rows.length - left.length }, 'analytics rows already written before a failure; not written again');
    return left;
  }

  /** The SQL of an `n`-row insert, compiled by Kysely (the dialect's placeholders) once per size. */
  private insertSql(n: number): string {
    let sql = this.sql.get(n);
    if (sql === undefined) {
      const blank = Object.fromEntries(COLUMNS.map((c) => [c, null])) as unknown as Row;
      sql = this.store.db.insertInto('gateway_requests').values(Array.from({ length: n }, () => blank)).compile().sql;
      this.sql.set(n, sql);
    }
    return sql;
  }

  /** Writes what is pending; rows of requests that finish later are dropped (counted). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    // A store that failed the final flush keeps its rows here: count them as dropped.
    if (this.pending.length) {
      this.dropped += this.pending.length;
      this.pending = [];
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * An error about the values written, not the database's reachability: PostgreSQL's classes 22
 * (data exception) and 23 (integrity), SQLite's constraint, type and size errors.
 */
export function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return /^2[23][0-9A-Z]{3}$/.test(code) || /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}
