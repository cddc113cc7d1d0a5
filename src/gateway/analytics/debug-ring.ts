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

/** Request parameters the ring keeps as numbers (absent: NaN). Any other parameter keeps the request's params object. */
const NUMERIC_PARAMS = ['temperature', 'max_tokens', 'max_completion_tokens', 'top_p', 'top_k'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Cache keys are 22 characters of base64url (see cacheKey). */
const KEY_CHARS = 22;
const BASE64URL = /^[A-Za-z0-9_-]{22}$/;

/**
 * Strings that repeat from request to request (model names, session ids), one copy each: every
 * request's own copy (parsed from its body or headers) would otherwise stay referenced by the ring.
 * Bounded: cleared when full.
 */
class Interned {
  private readonly map = new Map<string, string>();
  constructor(private readonly max: number) {}
  of(s: string): string {
    const known = this.map.get(s);
    if (known !== undefined) return known;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(s, s);
    return s;
  }
}

/**
 * The last `size` finished requests behind /api/debug/requests, kept column by column in arrays
 * allocated once: recording a request stores numbers, bytes and a few references to strings that
 * live anyway, not the request's own objects.
 *
 * Why: under load every record lives for `size` requests, long enough for V8 to promote what it
 * references and then find it dead in the old generation, which is what brings on the
 * mark-compacts that stall the event loop. Keeping the whole record cost ≈ 1 KB promoted per
 * request; columns of its fields still held the request's id, cache key, model and params objects:
 * ≈ 0.2 KB per request, 40 % of all the gateway promoted at 1,000 requests/s (docs/benchmarks/
 * gateway.md, tenth session). Now a UUID id and a cache key are bytes, numeric params are numbers,
 * model and session id strings are interned; anything else (an id of another shape, a `stop`
 * list) is kept as given.
 */
export class DebugRing {
  private readonly idBytes: Uint8Array;
  /** Ids that are not UUIDs (undefined where the id is in `idBytes`). */
  private readonly idOther: (string | undefined)[];
  private readonly ts: Float64Array;
  private readonly model: string[];
  private readonly provider: string[];
  private readonly route: string[];
  private readonly status: Int32Array;
  private readonly errorType: (string | null)[];
  /** Bit 0: stream; bit 1: cache hit; bit 2: cache key in `keyBytes`; bit 3: params has `stream`; bit 4: its value. */
  private readonly flags: Uint8Array;
  private readonly keyBytes: Uint8Array;
  /** Cache keys of another shape (undefined where the key is in `keyBytes` or there is none). */
  private readonly keyOther: (string | undefined)[];
  private readonly numeric: Float64Array[];
  /** The params object itself when it holds anything but the numeric ones and `stream: boolean`. */
  private readonly paramsOther: (Record<string, unknown> | undefined)[];
  private readonly latencyMs: Float64Array;
  private readonly retries: Int32Array;
  private readonly sessionId: (string | null)[];
  private readonly interned = new Interned(4096);
  private next = 0;
  private filled = 0;

  constructor(readonly size: number) {
    const strings = <T>(v: T) => new Array<T>(size).fill(v);
    this.idBytes = new Uint8Array(size * 16);
    this.idOther = strings<string | undefined>(undefined);
    this.ts = new Float64Array(size);
    this.model = strings('');
    this.provider = strings('');
    this.route = strings('');
    this.status = new Int32Array(size);
    this.errorType = strings<string | null>(null);
    this.flags = new Uint8Array(size);
    this.keyBytes = new Uint8Array(size * KEY_CHARS);
    this.keyOther = strings<string | undefined>(undefined);
    this.numeric = NUMERIC_PARAMS.map(() => new Float64Array(size));
    this.paramsOther = strings<Record<string, unknown> | undefined>(undefined);
    this.latencyMs = new Float64Array(size);
    this.retries = new Int32Array(size);
    this.sessionId = strings<string | null>(null);
  }

  /** Overwrites the oldest slot. */
  add(r: RequestRecord): void {
    const i = this.next;
    let flags = (r.stream ? 1 : 0) | (r.cacheHit ? 2 : 0);
    if (UUID.test(r.id)) {
      writeUuid(this.idBytes, i * 16, r.id);
      this.idOther[i] = undefined;
    } else this.idOther[i] = r.id;
    this.ts[i] = r.ts;
    this.model[i] = this.interned.of(r.model);
    this.provider[i] = r.provider;
    this.route[i] = r.route;
    this.status[i] = r.status;
    this.errorType[i] = r.errorType;
    this.keyOther[i] = undefined;
    if (r.cacheKey !== null && BASE64URL.test(r.cacheKey)) {
      for (let k = 0; k < KEY_CHARS; k++) this.keyBytes[i * KEY_CHARS + k] = r.cacheKey.charCodeAt(k);
      flags |= 4;
    } else if (r.cacheKey !== null) this.keyOther[i] = r.cacheKey;
    for (const col of this.numeric) col[i] = NaN;
    let other = false;
    for (const name in r.params) {
      const v = r.params[name];
      const at = (NUMERIC_PARAMS as readonly string[]).indexOf(name);
      if (at >= 0 && typeof v === 'number') (this.numeric[at] as Float64Array)[i] = v;
      else if (name === 'stream' && typeof v === 'boolean') flags |= v ? 24 : 8;
      else other = true;
    }
    this.paramsOther[i] = other ? r.params : undefined;
    this.flags[i] = flags;
    this.latencyMs[i] = r.latencyMs;
    this.retries[i] = r.retries;
    this.sessionId[i] = r.sessionId === null ? null : this.interned.of(r.sessionId);
    this.next = (i + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }

  /** The most recent entries, newest first (at most `limit`). */
  recent(limit: number): DebugEntry[] {
    const out: DebugEntry[] = [];
    const n = this.size;
    for (let k = 1; k <= this.filled && out.length < limit; k++) {
      const i = (this.next - k + n) % n;
      const flags = this.flags[i] as number;
      out.push({
        id: this.idOther[i] ?? readUuid(this.idBytes, i * 16),
        ts: this.ts[i] as number,
        model: this.model[i] as string,
        provider: this.provider[i] as string,
        route: this.route[i] as string,
        status: this.status[i] as number,
        errorType: this.errorType[i] ?? null,
        stream: (flags & 1) !== 0,
        cacheHit: (flags & 2) !== 0,
        cacheKey: flags & 4 ? Buffer.from(this.keyBytes.subarray(i * KEY_CHARS, (i + 1) * KEY_CHARS)).toString('latin1') : (this.keyOther[i] ?? null),
        params: this.paramsOther[i] ?? this.paramsAt(i, flags),
        latencyMs: this.latencyMs[i] as number,
        retries: this.retries[i] as number,
        sessionId: this.sessionId[i] ?? null,
      });
    }
    return out;
  }

  private paramsAt(i: number, flags: number): Record<string, unknown> {
    const params: Record<string, unknown> = {};
    NUMERIC_PARAMS.forEach((name, at) => {
      const v = (this.numeric[at] as Float64Array)[i] as number;
      if (!Number.isNaN(v)) params[name] = v;
    });
    if (flags & 8) params.stream = (flags & 16) !== 0;
    return params;
  }
}

/** A lowercase hex digit's value (the id matched UUID). */
const nibble = (code: number): number => (code <= 57 ? code - 48 : code - 87);

function writeUuid(to: Uint8Array, at: number, id: string): void {
  for (let c = 0, b = at; c < 36; c += 2) {
    if (c === 8 || c === 13 || c === 18 || c === 23) c++;
    to[b++] = (nibble(id.charCodeAt(c)) << 4) | nibble(id.charCodeAt(c + 1));
  }
}

function readUuid(from: Uint8Array, at: number): string {
  const hex = Buffer.from(from.subarray(at, at + 16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
