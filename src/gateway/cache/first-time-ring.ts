/**
 * The cache's first-time window: answers nobody has read again yet, as records one after another
 * in one ring of bytes, the oldest overwritten first; a Map from key to record offset finds them.
 *
 * Why a ring: almost every proxied answer is stored and almost none is read again (each turn of a
 * conversation carries the whole conversation), so what an entry costs while it waits in the
 * window is paid on nearly every request. Kept as lru-cache entries, each waiting answer was an
 * entry object, a Buffer view, a key and the records of three indexes: ~0.5 KB of V8 heap per
 * request that lived for seconds, long enough to be promoted, and then died in the old
 * generation, bringing on the mark-compacts that stall the event loop. (At 1,000 streamed
 * requests/s, storing the answers cost ~60 µs of CPU per request and doubled the p99 the gateway
 * added: docs/benchmarks/gateway.md, tenth session.) Here a waiting answer is its bytes in the
 * ring plus one Map entry whose value is a small integer; everything else about it (accounted size,
 * expiry, recency) is in its record's header.
 *
 * Record layout (little-endian), 8-byte aligned:
 *   u32 record length | u32 accounted size | f64 expires at (ms) | f64 recency | u32 payload bytes |
 *   u16 key bytes | key (UTF-8) | payload
 * A record whose key no longer maps to its offset (read again, replaced, removed) is dead: its
 * bytes stay until the ring's tail passes them. A u32 0 where a record would start, or fewer than
 * 4 bytes before the end, means the records continue at offset 0.
 */

const HEADER = 30;

export interface RingRecord {
  key: string;
  /** The payload, a view of the ring (valid until the next write). */
  payload: Buffer;
  size: number;
  expiresAt: number;
  recency: number;
}

export class FirstTimeRing {
  private buf: Buffer | undefined;
  private readonly index = new Map<string, number>();
  /** Where the next record goes. */
  private head = 0;
  /** The oldest record in the ring, live or dead. */
  private tail = 0;
  /** Records in the ring, live or dead. */
  private records = 0;
  /** Accounted sizes of the live records. */
  private live = 0;

  /**
   * @param bound accounted bytes of live records at most (the window)
   * @param capacity bytes of the ring itself (records take less than their accounted size; some slack for dead ones)
   */
  constructor(
    private readonly bound: number,
    private readonly capacity: number,
  ) {}

  get liveBytes(): number {
    return this.live;
  }

  get size(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /**
   * Room for `key`'s record with a payload of `payloadBytes`, after evicting the oldest records as
   * the window bound and the ring's bytes require; the payload view to fill, or undefined when the
   * record could never fit (larger than the window or the ring). The record is live at once (the
   * caller fills the payload before anything else reads the ring).
   */
  alloc(key: string, payloadBytes: number, size: number, expiresAt: number, recency: number): Buffer | undefined {
    const keyBytes = Buffer.byteLength(key);
    const length = (HEADER + keyBytes + payloadBytes + 7) & ~7;
    if (size > this.bound || length > this.capacity || keyBytes > 0xffff) return undefined;
    this.remove(key);
    while (this.live > 0 && this.live + size > this.bound) this.evictOldest();
    const buf = (this.buf ??= Buffer.allocUnsafeSlow(this.capacity));
    const at = this.reserve(buf, length);
    buf.writeUInt32LE(length, at);
    buf.writeUInt32LE(size, at + 4);
    buf.writeDoubleLE(expiresAt, at + 8);
    buf.writeDoubleLE(recency, at + 16);
    buf.writeUInt32LE(payloadBytes, at + 24);
    buf.writeUInt16LE(keyBytes, at + 28);
    buf.write(key, at + HEADER, keyBytes, 'utf8');
    this.head = at + length;
    this.index.set(key, at);
    this.records++;
    this.live += size;
    const from = at + HEADER + keyBytes;
    return buf.subarray(from, from + payloadBytes);
  }

  /** The live record of `key`, or undefined. */
  get(key: string): RingRecord | undefined {
    const at = this.index.get(key);
    return at === undefined ? undefined : this.recordAt(at, key);
  }

  /** Forgets `key`'s record (its bytes stay until the tail passes them). */
  remove(key: string): void {
    const at = this.index.get(key);
    if (at === undefined || this.buf === undefined) return;
    this.index.delete(key);
    this.live -= this.buf.readUInt32LE(at + 4);
  }

  /** The recency of the oldest live record (dead ones before it are dropped), or undefined. */
  oldestRecency(): number | undefined {
    while (this.records > 0) {
      const key = this.liveKeyAtTail();
      if (key !== undefined) return (this.buf as Buffer).readDoubleLE(this.tail + 16);
      this.dropTail();
    }
    return undefined;
  }

  /** Evicts the oldest live record (and the dead ones before it). */
  evictOldest(): void {
    while (this.records > 0) {
      const live = this.liveKeyAtTail() !== undefined;
      this.dropTail();
      if (live) return;
    }
  }

  /** Every live record (any order). */
  *entries(): Generator<RingRecord> {
    for (const [key, at] of this.index) yield this.recordAt(at, key);
  }

  clear(): void {
    this.index.clear();
    this.head = this.tail = this.records = this.live = 0;
    this.buf = undefined;
  }

  private recordAt(at: number, key: string): RingRecord {
    const buf = this.buf as Buffer;
    const from = at + HEADER + buf.readUInt16LE(at + 28);
    const payload = buf.subarray(from, from + buf.readUInt32LE(at + 24));
    return { key, payload, size: buf.readUInt32LE(at + 4), expiresAt: buf.readDoubleLE(at + 8), recency: buf.readDoubleLE(at + 16) };
  }

  /** The tail record's key when it is live, after moving the tail past a wrap. */
  private liveKeyAtTail(): string | undefined {
    const buf = this.buf as Buffer;
    if (this.capacity - this.tail < 4 || buf.readUInt32LE(this.tail) === 0) this.tail = 0;
    const keyBytes = buf.readUInt16LE(this.tail + 28);
    const key = buf.toString('utf8', this.tail + HEADER, this.tail + HEADER + keyBytes);
    return this.index.get(key) === this.tail ? key : undefined;
  }

  /** Drops the tail record (forgetting its key if it is live). */
  private dropTail(): void {
    const buf = this.buf as Buffer;
    const key = this.liveKeyAtTail();
    if (key !== undefined) {
      this.index.delete(key);
      this.live -= buf.readUInt32LE(this.tail + 4);
    }
    this.tail += buf.readUInt32LE(this.tail);
    this.records--;
    if (this.records === 0) this.head = this.tail = 0;
  }

  /** The offset of `length` free bytes, dropping the oldest records until there is room. */
  private reserve(buf: Buffer, length: number): number {
    for (;;) {
      if (this.records === 0) {
        this.head = this.tail = 0;
        return 0;
      }
      if (this.head > this.tail) {
        // free: from head to the end, then from the start to the tail
        if (this.head + length <= this.capacity) return this.head;
        if (this.capacity - this.head >= 4) buf.writeUInt32LE(0, this.head);
        this.head = 0;
        continue;
      }
      // head <= tail (equal: full): free from head to the tail
      if (this.head + length <= this.tail) return this.head;
      this.dropTail();
    }
  }
}
