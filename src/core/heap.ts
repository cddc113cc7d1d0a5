import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * V8 heap settings of the standalone gateway (`cco proxy`), set by the process itself at start
 * (and the daemon's young generation while it starts: `DAEMON_START_HEAP`).
 *
 * Why: under load the gateway allocates ~45 KB per proxied request, most of it dead within the
 * request, but a few KB per request live long enough to be promoted (requests in flight at a
 * scavenge, analytics rows waiting for their batch, the debug ring, cache entries in the
 * first-time window) and die later in the old generation. With V8's defaults the old generation
 * is allowed to grow to several times its live size before a mark-compact (80–115 MB of mostly
 * garbage over ~25 MB live, measured) and the young generation grows to 2 × 16 MB: the process
 * peaked at 230–280 MB under the benchmark's load for a live heap of ~60 MB.
 *
 * - `--heap-growing-percent`: the old generation may grow by this share over what survived the
 *   last mark-compact before the next one starts (V8 still adds its minimum step of a few MB).
 *   More frequent, smaller mark-compacts: measured at ±0 µs of CPU per request within the noise,
 *   peak RSS −60 to −70 MB. V8 reads the flag each time it computes the limit, so setting it at
 *   run time takes effect.
 * - a young-generation cap: V8 sizes the semi-spaces once, at isolate creation
 *   (`--max-semi-space-size` set at run time is ignored), but reads `--semi-space-growth-factor`
 *   whenever it grows them. After each GC the semi-space size is checked: below the cap the
 *   factor is V8's default (2), at the cap it is 1 (no further growth). 8 MB semi-spaces instead
 *   of 16 MB: −16 MB RSS, twice the scavenges, each with half the survivors to copy. A 4 MB cap
 *   (2026-12-06) saved another 11–13 MB of peak RSS when the gateway peaked at 150 MB, for
 *   +20–40% CPU per request at saturation (100 requests in flight at each scavenge: V8's GC
 *   helper threads alone took 22 µs per miss). Since the gateway peaks lower (the analytics
 *   rows' write thread with the store's page cache), the cap is 8 MB again (2026-12-07, 4
 *   interleaved rounds of 20,000 misses over 100 connections: 181–220 µs per miss against
 *   217–306 with 4 MB; peak RSS under the benchmark 143 MB against 134–136, the target is 150).
 *
 * Flags the user set (NODE_OPTIONS or node's own arguments) win: a setting already given there
 * is left alone.
 */
export interface HeapTuning {
  /** Old-generation growth over the live size after a mark-compact, in percent (V8: 0 = its own heuristics, 1.1× to 4×). */
  growingPercent: number;
  /** Largest semi-space, in MB (V8 default on 64-bit: 16). 0: no cap. */
  semiSpaceCapMb: number;
}

export const PROXY_HEAP: HeapTuning = { growingPercent: 20, semiSpaceCapMb: 8 };

/**
 * The daemon's young generation while it starts, released once it listens (`cco run`). Loading
 * its modules and agent catalog grew the semi-spaces, which an idle daemon then kept: idle RSS
 * 98–107 MB against 95–96 MB with this (`npm run bench -- daemon`; the target is < 100 MB), no
 * slower start (interleaved cold starts, medians 287 against 299 ms). Only while
 * starting: under the sidecar's load a 4 MB cap took 3× the scavenge time and brought
 * mark-compacts back (`npm run bench -- sidecar`); released, V8 grows them again as it needs.
 */
export const DAEMON_START_HEAP: HeapTuning = { growingPercent: 0, semiSpaceCapMb: 4 };

/** V8's own growth factor for the young generation (--semi-space-growth-factor default). */
const V8_GROWTH_FACTOR = 2;

/** Which settings to apply, given the flags the process was started with (node's arguments and NODE_OPTIONS). */
export function heapSettings(t: HeapTuning, given: string): HeapTuning {
  const set = (flag: string) => new RegExp(`--${flag}(=|\\s|$)`).test(given.replace(/_/g, '-'));
  return {
    growingPercent: set('heap-growing-percent') ? 0 : t.growingPercent,
    semiSpaceCapMb: set('max-semi-space-size') || set('semi-space-growth-factor') || set('max-heap-size') ? 0 : t.semiSpaceCapMb,
  };
}

/** The semi-space growth factor for a semi-space of `semiSpaceBytes` under a cap (see PROXY_HEAP). */
export function growthFactorFor(semiSpaceBytes: number, capMb: number): number {
  return semiSpaceBytes >= capMb * 1024 * 1024 ? 1 : V8_GROWTH_FACTOR;
}

/** The current semi-space size (half of V8's new space). */
function semiSpaceBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size / 2;
  return 0;
}

/**
 * Applies the heap settings to this process (once, at start); returns a function that lifts the
 * young-generation cap (V8's own growth again; the daemon once it listens, tests).
 */
export function tuneHeap(t: HeapTuning = PROXY_HEAP, given = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`): () => void {
  const s = heapSettings(t, given);
  if (s.growingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${Math.round(s.growingPercent)}`);
  if (s.semiSpaceCapMb <= 0) return () => undefined;
  let factor = V8_GROWTH_FACTOR;
  const check = () => {
    const f = growthFactorFor(semiSpaceBytes(), s.semiSpaceCapMb);
    // At the cap the factor is set again after every GC, not only when it changes: creating a
    // worker thread puts V8's flags back to their start values (measured on Node 20: a Worker
    // started after the cap was reached let the new space grow to 32 MB), and the gateway starts
    // one with its first request (the store's writer thread, store/sql-writer.ts).
    if (f !== factor || f !== V8_GROWTH_FACTOR) {
      factor = f;
      v8.setFlagsFromString(`--semi-space-growth-factor=${f}`);
    }
  };
  check();
  // The semi-spaces grow only during a scavenge, and at most once in it: looking after each GC
  // keeps them at the cap (an observer callback per GC, a few per second under load). Best effort:
  // two growing scavenges before the callback runs (it runs on the event loop) pass the cap by one
  // doubling, at worst to V8's own bound of 16 MB, i.e. V8's default behaviour.
  const obs = new PerformanceObserver(check);
  obs.observe({ entryTypes: ['gc'] });
  return () => {
    obs.disconnect();
    if (factor !== V8_GROWTH_FACTOR) v8.setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  };
}
