import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthFactorFor, heapSettings, PROXY_HEAP } from './heap.js';

/** The compiled module (built by test/global-setup.ts): the cap is observed in a process of its own. */
const HEAP_JS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'dist', 'core', 'heap.js');

/**
 * Churns objects that survive a scavenge or two (as requests in flight do) and reports the largest
 * new space seen. It yields to the event loop often (as a server does between requests): the
 * observer that stops the growth runs after a GC, and two growing scavenges before it runs would
 * pass the cap by one doubling (at worst back to V8's own bound; see heap.ts).
 */
const CHILD = `
import v8 from 'node:v8';
const { tuneHeap } = await import(process.argv[1]);
const release = process.argv[2] !== 'none' ? tuneHeap({ growingPercent: 0, semiSpaceCapMb: 2 }, '') : () => undefined;
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const keep = [];
let max = 0;
for (let i = 0; i < 2e6; i++) {
  keep.push({ a: i, b: [i] });
  if (keep.length > 40000) keep.splice(0, 20000);
  // a worker thread started once the cap holds (as the store's writer thread may be)
  if (i === 300000 && process.argv[2] === 'cap-worker') new (await import('node:worker_threads')).Worker('setInterval(() => {}, 100)', { eval: true }).unref();
  if (i % 500 === 0) {
    await new Promise((r) => setImmediate(r));
    max = Math.max(max, newSpace());
  }
}
const capped = max;
// released (the daemon once it listens): V8 grows the young generation again
if (process.argv[2] === 'cap-release') {
  release();
  max = 0;
  for (let i = 0; i < 2e6; i++) {
    keep.push({ a: i, b: [i] });
    if (keep.length > 40000) keep.splice(0, 20000);
    if (i % 500 === 0) {
      await new Promise((r) => setImmediate(r));
      max = Math.max(max, newSpace());
    }
  }
  console.log(capped / 1048576, max / 1048576);
} else console.log(max / 1048576);
process.exit(0);
`;

function maxNewSpacesMb(mode: 'cap' | 'cap-worker' | 'cap-release' | 'none'): number[] {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, pathToFileURL(HEAP_JS).href, mode], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split(' ').map(Number);
}
const maxNewSpaceMb = (mode: 'cap' | 'cap-worker' | 'none'): number => maxNewSpacesMb(mode)[0] as number;

describe('heap settings', () => {
  it('leaves a setting alone when the user gave it (node arguments or NODE_OPTIONS)', () => {
    expect(heapSettings(PROXY_HEAP, '')).toEqual(PROXY_HEAP);
    expect(heapSettings(PROXY_HEAP, '--heap-growing-percent=50')).toEqual({ ...PROXY_HEAP, growingPercent: 0 });
    expect(heapSettings(PROXY_HEAP, '--enable-source-maps --max-semi-space-size=32')).toEqual({ ...PROXY_HEAP, semiSpaceCapMb: 0 });
    expect(heapSettings(PROXY_HEAP, '--max_semi_space_size 4')).toEqual({ ...PROXY_HEAP, semiSpaceCapMb: 0 });
    expect(heapSettings(PROXY_HEAP, '--max-heap-size=512')).toEqual({ ...PROXY_HEAP, semiSpaceCapMb: 0 });
    // Other flags are not taken for these.
    expect(heapSettings(PROXY_HEAP, '--max-old-space-size=4096')).toEqual(PROXY_HEAP);
  });

  it('stops the young generation growing at the cap', () => {
    expect(growthFactorFor(4 * 1024 * 1024, 8)).toBe(2);
    expect(growthFactorFor(8 * 1024 * 1024, 8)).toBe(1);
    expect(growthFactorFor(16 * 1024 * 1024, 8)).toBe(1);
  });

  it.skipIf(!existsSync(HEAP_JS))('keeps the new space near two semi-spaces of the cap in a process that allocates survivors', () => {
    // V8's default lets this workload grow the semi-spaces to 16 MB each (32 MB of new space).
    const none = maxNewSpaceMb('none');
    const capped = maxNewSpaceMb('cap');
    expect(none).toBeGreaterThan(8);
    // A 2 MB cap holds the new space at 4 MB; the cap is best effort (heap.ts): a second growing
    // scavenge before the observer runs passes it by one doubling (8 MB, seen once in a loaded CI
    // run), still a quarter of V8's default here.
    expect(capped).toBeLessThanOrEqual(8);
    expect(capped).toBeLessThan(none);
  });

  it.skipIf(!existsSync(HEAP_JS))('lets the young generation grow again once the cap is released (the daemon after its start)', () => {
    const [capped, released] = maxNewSpacesMb('cap-release') as [number, number];
    expect(capped).toBeLessThanOrEqual(8);
    expect(released).toBeGreaterThan(capped);
    expect(released).toBeGreaterThan(8);
  });

  it.skipIf(!existsSync(HEAP_JS))('keeps the cap when a worker thread starts after it was reached', () => {
    // Starting a Worker puts V8's flags back to their start values; the cap is set again after
    // each GC, so the growth stops at the first GC the observer sees. Best effort (heap.ts): two
    // growing scavenges before the observer runs pass the cap by two doublings (16 MB of new
    // space, seen once in a loaded CI run), still half of V8's default here (32 MB).
    expect(maxNewSpaceMb('cap-worker')).toBeLessThanOrEqual(16);
  });
});
