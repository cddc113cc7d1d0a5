import type { RequestRecord } from './record.js';

/** What /api/debug/requests shows of one finished request. */
export interface DebugEntry {
  id: string;
  ts: number;
  model: string;
  provider: string;
  route: string;
  status: number;
  errorType: string | null;
  stream: boolean;
  cacheHit: boolean;
  cacheKey: string | null;
  params: Record<string, unknown>;
  latencyMs: number;
  retries: number;
  sessionId: string | null;
}

/**
 * The last `size` finished requests behind /api/debug/requests, kept column by column in arrays
 * allocated once: recording a request stores a few references and numbers, not the request's
 * whole record. Under load each record lived for `size` requests — long enough for V8 to promote
 * it (≈ 1 KB a request with its usage, cost and attribution) only for it to die in the old
 * generation; the columns keep only the fields shown.
 */
export class DebugRing {
  private readonly id: string[];
  private readonly ts: Float64Array;
  private readonly model: string[];
  private readonly provider: string[];
  private readonly route: string[];
  private readonly status: Int32Array;
  private readonly errorType: (string | null)[];
  /** Bit 0: stream; bit 1: cache hit. */
  private readonly flags: Uint8Array;
  private readonly cacheKey: (string | null)[];
  private readonly params: Record<string, unknown>[];
  private readonly latencyMs: Float64Array;
  private readonly retries: Int32Array;
  private readonly sessionId: (string | null)[];
  private next = 0;
  private filled = 0;

  constructor(readonly size: number) {
    const strings = <T>(v: T) => new Array<T>(size).fill(v);
    this.id = strings('');
    this.ts = new Float64Array(size);
    this.model = strings('');
    this.provider = strings('');
    this.route = strings('');
    this.status = new Int32Array(size);
    this.errorType = strings<string | null>(null);
    this.flags = new Uint8Array(size);
    this.cacheKey = strings<string | null>(null);
    this.params = strings<Record<string, unknown>>({});
    this.latencyMs = new Float64Array(size);
    this.retries = new Int32Array(size);
    this.sessionId = strings<string | null>(null);
  }

  /** Overwrites the oldest slot. */
  add(r: RequestRecord): void {
    const i = this.next;
    this.id[i] = r.id;
    this.ts[i] = r.ts;
    this.model[i] = r.model;
    this.provider[i] = r.provider;
    this.route[i] = r.route;
    this.status[i] = r.status;
    this.errorType[i] = r.errorType;
    this.flags[i] = (r.stream ? 1 : 0) | (r.cacheHit ? 2 : 0);
    this.cacheKey[i] = r.cacheKey;
    this.params[i] = r.params;
    this.latencyMs[i] = r.latencyMs;
    this.retries[i] = r.retries;
    this.sessionId[i] = r.sessionId;
    this.next = (i + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }

  /** The most recent entries, newest first (at most `limit`). */
  recent(limit: number): DebugEntry[] {
    const out: DebugEntry[] = [];
    const n = this.size;
    for (let k = 1; k <= this.filled && out.length < limit; k++) {
      const i = (this.next - k + n) % n;
      out.push({
        id: this.id[i] as string,
        ts: this.ts[i] as number,
        model: this.model[i] as string,
        provider: this.provider[i] as string,
        route: this.route[i] as string,
        status: this.status[i] as number,
        errorType: this.errorType[i] ?? null,
        stream: ((this.flags[i] as number) & 1) !== 0,
        cacheHit: ((this.flags[i] as number) & 2) !== 0,
        cacheKey: this.cacheKey[i] ?? null,
        params: this.params[i] as Record<string, unknown>,
        latencyMs: this.latencyMs[i] as number,
        retries: this.retries[i] as number,
        sessionId: this.sessionId[i] ?? null,
      });
    }
    return out;
  }
}
