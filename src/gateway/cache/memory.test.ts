import { describe, expect, it } from 'vitest';
import { describeCacheBackend, entry } from './backend.contract.js';
import { createMemoryBackend, firstTimeWindow } from './memory.js';
import { encodeEntry, ENTRY_OVERHEAD, entrySize } from './types.js';

describeCacheBackend('memory (lru-cache)', async (maxBytes) => createMemoryBackend({ maxBytes }));

describe('memory backend: first-time window', () => {
  it('keeps answers not yet read again within the window (oldest out first), and an answer that was hit beyond it', async () => {
    const one = entrySize(entry(1000));
    const c = createMemoryBackend({ maxBytes: one * 100, firstTimeBytes: one * 3 });
    await c.set('a', entry(1000), 60_000);
    expect(await c.get('a')).toBeDefined(); // read again: leaves the window
    for (const k of ['b', 'c', 'd', 'e', 'f']) await c.set(k, entry(1000), 60_000);
    expect(await c.get('b')).toBeUndefined();
    expect(await c.get('c')).toBeUndefined();
    for (const k of ['a', 'd', 'e', 'f']) expect([k, await c.get(k)]).toEqual([k, expect.anything()]);
    expect(await c.size()).toEqual({ entries: 4, bytes: one * 4 });
    // d, e, f were just hit, so a new answer has the window to itself.
    for (const k of ['g', 'h', 'i', 'j']) await c.set(k, entry(1000), 60_000);
    expect(await c.get('g')).toBeUndefined();
    expect((await c.size()).entries).toBe(7);
  });

  it('an answer larger than the window is kept in memory of its own at once (was dropped), under the byte bound', async () => {
    const one = entrySize(entry(1000));
    const big = entrySize(entry(5000));
    const c = createMemoryBackend({ maxBytes: big + one * 3, firstTimeBytes: one * 2 });
    await c.set('big', entry(5000), 60_000);
    expect((await c.get('big'))?.body.length).toBe(5000);
    expect(await c.size()).toEqual({ entries: 1, bytes: big });
    // the bound still holds: the least recently used goes first
    for (const k of ['a', 'b']) await c.set(k, entry(1000), 60_000);
    await c.set('big2', entry(5000), 60_000);
    expect(await c.get('big')).toBeUndefined();
    expect((await c.size()).bytes).toBeLessThanOrEqual(big + one * 3);
  });

  it('an answer stored again counts as new in the window, not from its first store', async () => {
    const one = entrySize(entry(1000));
    const c = createMemoryBackend({ maxBytes: one * 100, firstTimeBytes: one * 3 });
    await c.set('a', entry(1000), 60_000);
    await c.set('b', entry(1000), 60_000);
    await c.set('a', entry(1000), 60_000); // replaced: now the newest
    await c.set('c', entry(1000), 60_000);
    await c.set('d', entry(1000), 60_000); // over the window: the oldest (b) leaves, not a
    expect(await c.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd']) expect([k, await c.get(k)]).toEqual([k, expect.anything()]);
  });

  it('past the byte bound the least recently used entry goes, whether it waits in the window or was read again', async () => {
    const one = entrySize(entry(1000));
    const c = createMemoryBackend({ maxBytes: one * 3 + 10, firstTimeBytes: one * 3 });
    await c.set('a', entry(1000), 60_000);
    await c.get('a'); // read again, then three newer answers: a is the least recently used
    for (const k of ['b', 'c', 'd']) await c.set(k, entry(1000), 60_000);
    expect((await c.list(10)).map((e) => e.key).sort()).toEqual(['b', 'c', 'd']);
    await c.get('b'); // now c is the least recently used, though b was stored before it
    await c.set('e', entry(1000), 60_000);
    expect((await c.list(10)).map((e) => e.key).sort()).toEqual(['b', 'd', 'e']);
    expect(await c.size()).toEqual({ entries: 3, bytes: one * 3 });
  });

  it('the default window is 1/64 of the bound, between 8 and 32 MB, never more than the bound', () => {
    const mb = 1024 * 1024;
    expect(firstTimeWindow(4096 * mb)).toBe(32 * mb);
    expect(firstTimeWindow(1024 * mb)).toBe(16 * mb);
    expect(firstTimeWindow(500 * mb)).toBe(8 * mb);
    expect(firstTimeWindow(16 * mb)).toBe(8 * mb);
    expect(firstTimeWindow(4 * mb)).toBe(4 * mb);
  });

  it('an answer read again no longer shares memory with the answers still in the window', async () => {
    const c = createMemoryBackend({ maxBytes: 10_000_000 });
    const e = entry(1000);
    await c.set('a', e, 60_000);
    await c.set('b', entry(1000), 60_000);
    const hit = await c.get('a');
    // its body is a view of its own entry's memory, not of a slab holding other entries
    expect(hit?.body.buffer.byteLength).toBe(encodeEntry(e).length);
    expect(hit?.body.equals(e.body)).toBe(true);
    expect((await c.get('b'))?.body.equals(entry(1000).body)).toBe(true);
  });

  it('counts real memory: the encoded entry plus the bookkeeping overhead', async () => {
    const c = createMemoryBackend({ maxBytes: 10_000_000 });
    const e = entry(1000);
    await c.set('k', e, 60_000);
    expect((await c.size()).bytes).toBe(encodeEntry(e).length + ENTRY_OVERHEAD);
  });
});
