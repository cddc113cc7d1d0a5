/**
 * Memory for the cache's first-time entries, handed out as pieces of shared slabs.
 *
 * Why: an entry in its own exact-size Buffer is an ArrayBuffer with a backing store of its own,
 * which V8 tracks until the GC that frees it. Every cache miss stores one, and most stay unread
 * until the first-time window pushes them out: measured through the gateway (non-streaming
 * misses, 10 connections), holding those per-entry ArrayBuffers cost ~19 µs of CPU per request,
 * against ~6 µs for the rest of the entry's bookkeeping (docs/benchmarks/gateway.md, ninth
 * session). Pieces of a slab are plain views: no backing store each.
 *
 * A slab lives as long as any piece of it is referenced. The window evicts oldest first, so a
 * slab's pieces go at about the same time; an entry that is read again leaves the window and must
 * leave the slab too (`ownCopy`), or it would pin the whole slab for as long as it stays cached.
 */
export class SlabPieces {
  private slab: Buffer | undefined;
  private used = 0;
  /** Pieces above this size get memory of their own (a large answer would waste most of a slab). */
  private readonly largest: number;

  constructor(private readonly slabBytes: number) {
    this.largest = slabBytes >>> 3;
  }

  /** `bytes` of memory: a piece of the current slab (a new slab when it is full), or its own when large. */
  readonly alloc = (bytes: number): Buffer => {
    if (bytes > this.largest) return Buffer.allocUnsafeSlow(bytes);
    if (this.slab === undefined || this.used + bytes > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const piece = this.slab.subarray(this.used, this.used + bytes);
    // 8-byte aligned, as allocations of their own are
    this.used += (bytes + 7) & ~7;
    return piece;
  };

  /** Forgets the current slab (its pieces keep it until they go). */
  reset(): void {
    this.slab = undefined;
    this.used = 0;
  }

  /** The slab size for a first-time window of `windowBytes`: 1 MB, less for a small window. */
  static sizeFor(windowBytes: number): number {
    return Math.max(4096, Math.min(1024 * 1024, 2 ** Math.floor(Math.log2(Math.max(1, windowBytes / 8)))));
  }
}

/** Whether `b` is the whole of its memory (not a view into a larger buffer). */
export const ownsMemory = (b: Buffer): boolean => b.byteOffset === 0 && b.buffer.byteLength === b.length;

/** `b` in exact-size memory of its own (itself when it already is). */
export function ownCopy(b: Buffer): Buffer {
  if (ownsMemory(b)) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}
