/**
 * The latency the gateway adds at a fixed offered load, for comparing builds or flags (not part of
 * `npm run bench`).
 *
 * Why: a p99 moves 2–3× between phases of this shared machine, so two builds measured one after
 * the other mostly compare phases. Here the fake upstream (direct) and one `cco proxy` per variant
 * get short slots at the same rate in rotating order, round after round, and each path's
 * latencies are pooled; the gateway's CPU per request (whole process and main thread) is read from
 * /proc over its own slots. With `--gc`, each variant runs with V8's --trace-gc-nvp and its
 * promoted bytes per request are reported: what ends in V8's old generation, the figure that
 * decides how often the mark-compacts that stall the event loop come, and one that does not
 * depend on the machine's phase.
 *
 * Usage (each checkout built with `npm run build`); a variant is `<checkout>[|node flags[|proxy flags]]`:
 *   node --import tsx bench/gateway-tail.ts [--stream] [--gc] [--rounds 10] [--slot 1] [--rate 1000] <variant>...
 * e.g. `... --stream /tmp/before .` or `... . '.||--cache-ttl 0'`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { cpuMicros, openLoop, startFakeUpstream, start } from './processes.js';
import type { Child } from './processes.js';

const { values: opts, positionals: variants } = parseArgs({
  allowPositionals: true,
  options: {
    stream: { type: 'boolean', default: false },
    gc: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '10' },
    slot: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
  },
});
if (!variants.length) throw new Error('usage: gateway-tail.ts [--stream] [--gc] [--rounds N] [--slot s] [--rate r] <checkout[|node flags[|proxy flags]]>...');
const ROUNDS = Number(opts.rounds);
const SLOT_S = Number(opts.slot);
const RATE = Number(opts.rate);
const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'bench-key', 'anthropic-version': '2023-06-01' };
let counter = 0;
const body = () => JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: opts.stream, messages: [{ role: 'user', content: `Request number ${counter++}` }] });

interface Path {
  label: string;
  url: string;
  pid: number | undefined;
  pool: Pool;
  lat: number[];
  cpu: number;
  main: number;
  promoted: number;
  measuring: boolean;
}

/** One slot: `seconds` at RATE requests/s, open loop; the latencies go to the path. */
async function slot(p: Path, seconds: number, record: boolean): Promise<void> {
  const c0 = cpuMicros(p.pid);
  const m0 = cpuMicros(p.pid, p.pid);
  p.measuring = record;
  const r = await openLoop(RATE, seconds, async () => {
    const res = await p.pool.request({ path: '/v1/messages', method: 'POST', headers: HEADERS, body: body() });
    await res.body.text();
    return res.statusCode;
  });
  p.measuring = false;
  if (r.failed) throw new Error(`${p.label}: ${r.failed} requests failed`);
  if (record) {
    p.lat.push(...r.latencies);
    p.cpu += cpuMicros(p.pid) - c0;
    p.main += cpuMicros(p.pid, p.pid) - m0;
  }
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))] ?? NaN;

const dir = mkdtempSync(join(tmpdir(), 'cco-gw-tail-'));
const env = { ...process.env, CCO_HOME: join(dir, 'home'), CCO_CONFIG_DIR: join(dir, 'config'), CCO_RUNTIME_DIR: join(dir, 'run'), DATABASE_URL: '', REDIS_URL: '' };
const first = resolve((variants[0] as string).split('|')[0] as string);
const fake = await startFakeUpstream(first, env);
const children: Child[] = [fake];
const paths: Path[] = [];
const path = (label: string, url: string, pid: number | undefined): Path => ({ label, url, pid, pool: new Pool(url, { connections: 64 }), lat: [], cpu: 0, main: 0, promoted: 0, measuring: false });
try {
  paths.push(path('direct', fake.url, fake.proc.pid));
  for (const [i, v] of variants.entries()) {
    const [root = '.', nodeFlags = '', proxyFlags = ''] = v.split('|');
    const words = (s: string) => s.split(' ').filter(Boolean);
    const args = [...(opts.gc ? ['--trace-gc-nvp'] : []), ...words(nodeFlags), join(resolve(root), 'dist', 'cco', 'main.js'), 'proxy', '--port', '0', '--log-level', 'warn', '--db-path', join(dir, `gw-${i}.db`), '--cache-size', '500', '--cache-ttl', '3600', ...words(proxyFlags)];
    const started: { path?: Path } = {};
    // every GC's promoted bytes (the checkpoint thread's isolate adds a few small ones)
    const onLine = (line: string) => {
      const p = started.path;
      if (p?.measuring && line.includes(' pause=')) p.promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    };
    const gw = await start(args, { ...env, CCO_ANTHROPIC_BASE_URL: fake.url }, opts.gc ? onLine : undefined);
    children.push(gw);
    started.path = path(`${i + 1}: ${v}`, gw.url, gw.proc.pid);
    paths.push(started.path);
  }
  for (const p of paths) await slot(p, 2, false); // JIT, pools, the cache's window filling
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...paths.slice(r % paths.length), ...paths.slice(0, r % paths.length)];
    for (const p of order) await slot(p, SLOT_S, true);
  }
  const direct = [...(paths[0] as Path).lat].sort((a, b) => a - b);
  console.log(`\n${opts.stream ? 'streamed' : 'non-streamed'} misses at ${RATE} requests/s, ${ROUNDS} interleaved rounds of ${SLOT_S} s per path\n`);
  console.log(`| path | p50 ms | p99 ms | added p50 | added p99 | CPU µs/req | main thread |${opts.gc ? ' KB promoted/req |' : ''}`);
  console.log(`|---|---:|---:|---:|---:|---:|---:|${opts.gc ? '---:|' : ''}`);
  for (const p of paths) {
    const xs = [...p.lat].sort((a, b) => a - b);
    const n = Math.max(1, xs.length);
    const added = (q: number) => (p === paths[0] ? '—' : (pct(xs, q) - pct(direct, q)).toFixed(2));
    const gc = opts.gc ? (p === paths[0] ? ' — |' : ` ${(p.promoted / n / 1024).toFixed(2)} |`) : '';
    console.log(`| ${p.label} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} | ${added(50)} | ${added(99)} | ${(p.cpu / n).toFixed(0)} | ${(p.main / n).toFixed(0)} |${gc}`);
  }
} finally {
  for (const p of paths) await p.pool.close();
  for (const c of children) c.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
