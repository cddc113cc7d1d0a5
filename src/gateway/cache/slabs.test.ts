import { describe, expect, it } from 'vitest';
import { ownCopy, ownsMemory, SlabPieces } from './slabs.js';

describe('SlabPieces', () => {
  it('hands out small pieces of one slab, 8-byte aligned, and starts a new slab when it is full', () => {
    const s = new SlabPieces(4096);
    const a = s.alloc(100);
    const b = s.alloc(200);
    expect(a.length).toBe(100);
    expect(b.buffer).toBe(a.buffer);
    expect(a.buffer.byteLength).toBe(4096);
    expect(b.byteOffset - a.byteOffset).toBe(104);
    const pieces = [b];
    for (let i = 0; i < 20; i++) pieces.push(s.alloc(500));
    const buffers = new Set(pieces.map((p) => p.buffer));
    expect(buffers.size).toBeGreaterThan(1);
    // no piece crosses the end of its slab, and pieces never overlap
    for (const p of pieces) expect(p.byteOffset + p.length).toBeLessThanOrEqual(4096);
    a.fill(1);
    b.fill(2);
    expect(a.every((x) => x === 1)).toBe(true);
  });

  it('gives a large piece memory of its own', () => {
    const s = new SlabPieces(4096);
    const big = s.alloc(1000);
    expect(ownsMemory(big)).toBe(true);
    expect(ownsMemory(s.alloc(10))).toBe(false);
  });

  it('sizes slabs at 1 MB, or an eighth of a small window, never under 4 KB', () => {
    expect(SlabPieces.sizeFor(8 * 1024 * 1024)).toBe(1024 * 1024);
    expect(SlabPieces.sizeFor(32 * 1024 * 1024)).toBe(1024 * 1024);
    expect(SlabPieces.sizeFor(1024 * 1024)).toBe(128 * 1024);
    expect(SlabPieces.sizeFor(10_000)).toBe(4096);
  });
});

describe('ownCopy', () => {
  it('copies a view into exact-size memory of its own, and leaves a buffer that already is one', () => {
    const slab = Buffer.allocUnsafeSlow(64).fill(7);
    const view = slab.subarray(8, 24);
    const own = ownCopy(view);
    expect(own).not.toBe(view);
    expect(ownsMemory(own)).toBe(true);
    expect(own.equals(view)).toBe(true);
    const solo = Buffer.allocUnsafeSlow(16);
    expect(ownCopy(solo)).toBe(solo);
  });
});
