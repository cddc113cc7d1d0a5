/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line, e.g.
 * `npm run bench -- gateway`). Each benchmark measures a baseline in the same run and prints
 * ratios against it, plus a Markdown table for docs/BENCHMARKS.md.
 *
 * `npm run bench` starts this process (the load generator of the HTTP benchmarks) with 8 MB
 * semi-spaces: a paused load generator adds its pause to every latency it is measuring. Once the
 * sidecar bench stopped decoding each 43 KB context into a string, 8 MB gave this process the
 * shortest pauses (sidecar phase (b): GC 139–141 ms per 5 s, longest 5–7 ms, CPU 88 µs per
 * request; 64 MB: 206–260 ms, longest 10–18 ms, 100–105 µs; 4 MB: 408 ms).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmarks match ${only.join(' ')}`);
  process.exit(1);
}
for (const f of files) {
  console.log(`\n=== ${f}`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run(): Promise<void> };
  await mod.run();
}
