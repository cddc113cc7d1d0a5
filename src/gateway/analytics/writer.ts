import type { Insertable } from 'kysely';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../store/store.js';
import type { GatewayRequestsTable } from '../../store/tables/gateway.js';
import type { RequestRecord } from './record.js';

type Row = Insertable<GatewayRequestsTable>;

/** A request record as a database row. */
export function toRow(r: RequestRecord): Row {
  return {
    request_id: r.id,
    ts: r.ts,
    endpoint: r.endpoint,
    client_format: r.clientFormat,
    provider: r.provider || 'none',
    route: r.route || 'none',
    model: r.model || '(none)',
    upstream_model: r.upstreamModel || r.model || '(none)',
    status: r.status,
    error_type: r.errorType,
    stream: r.stream ? 1 : 0,
    cache_hit: r.cacheHit ? 1 : 0,
    input_tokens: r.usage.input,
    output_tokens: r.usage.output,
    cache_read_tokens: r.usage.cacheRead,
    cache_write_tokens: r.usage.cacheWrite,
    cost_input: r.cost.input,
    cost_output: r.cost.output,
    cost_cache_write: r.cost.cacheWrite,
    cost_cache_read: r.cost.cacheRead,
    cost_total: r.cost.total,
    cost_saved: r.costSaved,
    latency_ms: Math.round(r.latencyMs),
    ttft_ms: r.ttftMs === null ? null : Math.round(r.ttftMs),
    retries: r.retries,
    fallback_from: r.fallbackFrom,
    session_id: r.sessionId,
    agent_id: r.agentId,
    parent_agent_id: r.parentAgentId,
    client: r.client,
    project: r.project,
    cache_key: r.cacheKey,
  };
}

export interface WriterOptions {
  /** Flush when this many rows wait (default 200). */
  batchSize?: number;
  /** Flush at least this often (default 250 ms). */
  intervalMs?: number;
  /** Rows kept when the database is unreachable; the oldest are dropped past it. */
  maxPending?: number;
}

/**
 * Writes analytics rows in batches off the hot path: `add()` only pushes to an array; a timer
 * (or a full batch) inserts them in one statement. `flush()` waits for everything added so far.
 */
export class AnalyticsWriter {
  private pending: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  written = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    opts: WriterOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 200;
    this.intervalMs = opts.intervalMs ?? 250;
    this.maxPending = opts.maxPending ?? 50_000;
  }

  add(r: RequestRecord): void {
    this.pending.push(toRow(r));
    if (this.pending.length > this.maxPending) {
      this.dropped += this.pending.length - this.maxPending;
      this.pending.splice(0, this.pending.length - this.maxPending);
    }
    if (this.pending.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
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
    this.flushing = this.flushing.then(() => this.writeAll());
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.batchSize);
      try {
        await this.store.db.insertInto('gateway_requests').values(batch).execute();
        this.written += batch.length;
        this.lastError = undefined;
      } catch (e) {
        this.lastError = (e as Error).message;
        this.logger.warn({ err: this.lastError, rows: batch.length }, 'analytics write failed; will retry');
        this.pending.unshift(...batch);
        this.timer ??= setTimeout(() => void this.flush(), Math.max(1000, this.intervalMs));
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
