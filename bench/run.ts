/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line, e.g.
 * `npm run bench -- gateway`). Each benchmark measures a baseline in the same run and prints
 * ratios against it, plus a Markdown table for docs/BENCHMARKS.md.
 *
 * `npm run bench` starts this process (the load generator of the HTTP benchmarks) with 64 MB
 * semi-spaces: its own scavenges pause it less often, and a paused load generator adds its pause
 * to every latency it is measuring (sidecar phase (b), A/B: its event-loop delay p99 5.2 / 4.1
 * against 7.4 / 5.4 ms, its CPU per request −7 to −16 %).
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
