/**
 * Gateway benchmark: the fake upstream measured directly and through the gateway (`cco proxy`,
 * a separate process) in the same run, with autocannon.
 *  (a) saturation at 100 connections: gateway throughput as a ratio of direct;
 *  (b) a fixed offered load of 1,000 requests/s: added latency p50/p99 versus direct;
 *  (c) requests the size of a Claude Code turn (~100 KB) at 200 requests/s: added latency;
 *  (b) and (c) run their paths in interleaved rounds (BENCH_ROUNDS, default 4), so that direct,
 *  gateway and bare proxy sample the same phases of a shared machine;
 * for non-streaming and streaming answers, cache miss (every body unique) and cache hit;
 * plus the gateway's peak RSS. A bare proxy (bench/bare-proxy.ts: node:http + undici, nothing
 * else) runs the miss scenarios too: the floor any Node proxy has on this machine. In (a), the
 * same bare proxy with node:http's client and a TCP relay that parses no HTTP (bench/tcp-relay.ts)
 * run as well, against the budget the direct path sets (upstream + load generator CPU per request).
 * Prints a Markdown table for docs/benchmarks/gateway.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Pool } from 'undici';
import { cpuMicros, openLoop, start, startFakeUpstream } from './processes.js';
import type { Child } from './processes.js';

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cco', 'main.js');
/** A proxy that only proxies (node:http + undici), run beside the gateway as the floor. */
const BARE = join(ROOT, 'bench', 'bare-proxy.ts');
/** A proxy of bytes with no HTTP at all: what relaying alone costs (a) (`bench/tcp-relay.ts`). */
const RELAY = join(ROOT, 'bench', 'tcp-relay.ts');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** (b) and (c): rounds each scenario's SECONDS are split into (see `interleaved`). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 4));

const body = (stream: boolean, n: number | undefined) =>
  JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream, messages: [{ role: 'user', content: n === undefined ? 'Say hello to the benchmark' : `Request number ${n}` }] });

/** (c): the conversation a Claude Code turn resends, ~100 KB, built once; each request adds a unique last message. */
const TURN_RATE = 200;
const TURN_MESSAGES = 50;
const history = Array.from({ length: TURN_MESSAGES }, (_, i) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: [{ type: 'text', text: 'An earlier turn of the conversation, with code: function double(x) { return x * 2; } '.repeat(23) }],
}));
const turnBody = (stream: boolean, n: number | undefined) =>
  JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 64,
    stream,
    metadata: { user_id: `user_bench_session_${n ?? 0}` },
    system: [{ type: 'text', text: 'You are Claude Code, a coding agent.' }],
    messages: [...history, { role: 'user', content: `Request number ${n}` }],
  });

const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'bench-key', 'anthropic-version': '2023-06-01' };

let counter = 0;

/**
 * BENCH_GC=1: the gateway runs with V8's --trace-gc-nvp and each gateway row also reports the
 * bytes allocated and promoted per request, the GCs and their pauses. Allocation and promotion per
 * request do not depend on what else runs on the machine (req/s, latency and even CPU per request
 * do), so they compare builds fairly on a busy machine.
 */
const GC = process.env.BENCH_GC === '1';
const gcTotals = { allocated: 0, promoted: 0, scavenges: 0, markCompacts: 0, pauseMs: 0, maxPauseMs: 0 };
function onGcLine(line: string): void {
  if (!line.includes(' pause=')) return;
  const num = (k: string) => Number(new RegExp(` ${k}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  gcTotals.allocated += num('allocated');
  gcTotals.promoted += num('promoted');
  const pause = num('pause');
  gcTotals.pauseMs += pause;
  gcTotals.maxPauseMs = Math.max(gcTotals.maxPauseMs, pause);
  if (line.includes(' gc=s ')) gcTotals.scavenges++;
  else gcTotals.markCompacts++;
}
/** GC figures per scenario, summed over its runs (the interleaved scenarios run in several slots). */
const gcByLabel = new Map<string, { allocated: number; promoted: number; scavenges: number; markCompacts: number; pauseMs: number; maxPauseMs: number; requests: number }>();
/** Runs (one slot of) a gateway scenario and, with BENCH_GC=1, adds what the gateway's GC did meanwhile to the scenario's row. */
async function withGc<T extends { requests: number }>(label: string, f: () => Promise<T>): Promise<T> {
  const before = { ...gcTotals };
  gcTotals.maxPauseMs = 0;
  const r = await f();
  if (GC) {
    await new Promise((done) => setTimeout(done, 200)); // the last trace lines
    const row = gcByLabel.get(label) ?? { allocated: 0, promoted: 0, scavenges: 0, markCompacts: 0, pauseMs: 0, maxPauseMs: 0, requests: 0 };
    row.allocated += gcTotals.allocated - before.allocated;
    row.promoted += gcTotals.promoted - before.promoted;
    row.scavenges += gcTotals.scavenges - before.scavenges;
    row.markCompacts += gcTotals.markCompacts - before.markCompacts;
    row.pauseMs += gcTotals.pauseMs - before.pauseMs;
    row.maxPauseMs = Math.max(row.maxPauseMs, gcTotals.maxPauseMs);
    row.requests += r.requests;
    gcByLabel.set(label, row);
  }
  gcTotals.maxPauseMs = Math.max(before.maxPauseMs, gcTotals.maxPauseMs);
  return r;
}

function gcRows(): string[] {
  return [...gcByLabel].map(([label, g]) => {
    const n = Math.max(1, g.requests);
    const kb = (v: number) => (v / n / 1024).toFixed(1);
    return `| ${label} | ${kb(g.allocated)} | ${kb(g.promoted)} | ${g.scavenges} | ${g.markCompacts} | ${Math.round((1000 * g.pauseMs) / n)} | ${g.maxPauseMs.toFixed(1)} |`;
  });
}

/**
 * (a) autocannon at 100 connections; unique bodies defeat the cache. `pid`: report that process's
 * CPU per request. `clientUs`: this process's CPU per request (autocannon runs here: the load
 * generator's cost, which shares the two cores with the upstream and the proxy).
 */
async function saturate(url: string, stream: boolean, unique: boolean, pid?: number): Promise<{ rps: number; p50: number; p99: number; errors: number; cpuUs: number; clientUs: number; requests: number }> {
  const c0 = cpuMicros(pid);
  const own0 = process.cpuUsage();
  const r = await autocannon({
    url: `${url}/v1/messages`,
    connections: 100,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        headers: HEADERS,
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(stream, unique ? counter++ : undefined) }),
      },
    ],
  });
  const own = process.cpuUsage(own0);
  const n = Math.max(1, r.requests.total);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuUs: (cpuMicros(pid) - c0) / n, clientUs: (own.user + own.system) / n, requests: r.requests.total };
}

/** One slot of a fixed-rate scenario: the raw latencies, kept for pooling over the slots. */
interface RateSlot {
  lat: number[];
  requests: number;
  errors: number;
  cpuMicros: number;
  seconds: number;
}

/** Keep-alive pools per URL, kept across the slots of the interleaved rounds (a new pool would make each slot's first requests pay for connecting). */
const ratePools = new Map<string, Pool>();
const ratePool = (url: string): Pool => {
  let pool = ratePools.get(url);
  if (!pool) ratePools.set(url, (pool = new Pool(url, { connections: 64, pipelining: 1 })));
  return pool;
};

/** A fixed offered rate for `seconds`, with sub-millisecond latency timing (autocannon rounds to 1 ms). */
async function fixedRateSlot(url: string, stream: boolean, unique: boolean, pid: number | undefined, rate: number, make: typeof body, seconds: number): Promise<RateSlot> {
  const c0 = cpuMicros(pid);
  const pool = ratePool(url);
  const r = await openLoop(rate, seconds, async () => {
    const res = await pool.request({ path: '/v1/messages', method: 'POST', headers: HEADERS, body: make(stream, unique ? counter++ : undefined) });
    await res.body.text();
    return res.statusCode;
  });
  return { lat: r.latencies, requests: r.latencies.length, errors: r.failed, cpuMicros: cpuMicros(pid) - c0, seconds: r.seconds };
}

interface RateResult {
  p50: number;
  p99: number;
  achieved: number;
  errors: number;
  cpuUs: number;
  requests: number;
}

function pooled(slots: RateSlot[]): RateResult {
  const lat = slots.flatMap((s) => s.lat).sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
  const seconds = slots.reduce((t, s) => t + s.seconds, 0);
  const cpu = slots.reduce((t, s) => t + s.cpuMicros, 0);
  return { p50: pct(50), p99: pct(99), achieved: lat.length / seconds, errors: slots.reduce((t, s) => t + s.errors, 0), cpuUs: cpu / Math.max(1, lat.length), requests: lat.length };
}

/**
 * (b) and (c): the paths of one comparison measured in interleaved rounds — each round gives every
 * path a slot of SECONDS / ROUNDS at the fixed rate, in a rotating order — and each path's
 * latencies pooled over its slots. On this shared machine a slow phase lasts seconds: measured one
 * after the other, the direct path and the gateway saw different phases, and the "added p99" was
 * mostly which of them caught one (a whole-phase p99 of the bare proxy moved from +0.4 to +11 ms
 * between runs). Interleaved, every path samples the same phases.
 */
async function interleaved<K extends string>(paths: Record<K, (seconds: number) => Promise<RateSlot>>): Promise<Record<K, RateResult>> {
  const names = Object.keys(paths) as K[];
  const slots = new Map<K, RateSlot[]>(names.map((n) => [n, []]));
  const seconds = SECONDS / ROUNDS;
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
    for (const n of order) slots.get(n)?.push(await paths[n](seconds));
  }
  return Object.fromEntries(names.map((n) => [n, pooled(slots.get(n) ?? [])])) as Record<K, RateResult>;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);

const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');

export async function run(): Promise<void> {
  const loadBefore = load();
  const dir = mkdtempSync(join(tmpdir(), 'cco-bench-gw-'));
  const env = { ...process.env, CCO_HOME: join(dir, 'home'), CCO_CONFIG_DIR: join(dir, 'config'), CCO_RUNTIME_DIR: join(dir, 'run'), DATABASE_URL: '', REDIS_URL: '' };
  const fake = await startFakeUpstream(ROOT, env);
  let gw: Child | undefined;
  let bare: Child | undefined;
  let bareNode: Child | undefined;
  let relay: Child | undefined;
  try {
    gw = await start([...(GC ? ['--trace-gc-nvp'] : []), CLI, 'proxy', '--port', '0', '--log-level', 'warn', '--db-path', join(dir, 'bench.db'), '--cache-size', '500', '--cache-ttl', '3600'], { ...env, CCO_ANTHROPIC_BASE_URL: fake.url }, GC ? onGcLine : undefined);
    const g = gw;
    bare = await start(['--import', 'tsx', BARE, fake.url], env);
    const b = bare;
    bareNode = await start(['--import', 'tsx', BARE, fake.url, 'node-http'], env);
    const bn = bareNode;
    relay = await start(['--import', 'tsx', RELAY, fake.url], env);
    const tr = relay;
    // Warm the paths (JIT, keep-alive pools, the cache for the hit scenarios).
    for (const u of [fake.url, g.url, b.url, bn.url, tr.url]) await saturate(u, false, true);

    const rows: string[] = [];
    const ceiling: string[] = [];
    const sat: Record<string, number> = {};
    console.log('\n(a) saturation, 100 connections, %d s each', SECONDS);
    for (const stream of [false, true]) {
      const direct = await saturate(fake.url, stream, true, fake.proc.pid);
      const kind = stream ? 'streaming' : 'non-streaming';
      const miss = await withGc(`(a) ${kind}, cache miss`, () => saturate(g.url, stream, true, g.proc.pid));
      const hit = await withGc(`(a) ${kind}, cache hit`, () => saturate(g.url, stream, false, g.proc.pid));
      const floor = await saturate(b.url, stream, true, b.proc.pid);
      const floorNode = await saturate(bn.url, stream, true, bn.proc.pid);
      const bytes = await saturate(tr.url, stream, true, tr.proc.pid);
      sat[`${kind} miss`] = miss.rps / direct.rps;
      sat[`${kind} direct rps`] = direct.rps;
      // CPU µs/req: the fake upstream's on the direct row, the gateway's on the gateway rows.
      rows.push(`| ${kind} | direct | ${Math.round(direct.rps)} | 1.00 | ${direct.p50} | ${direct.p99} | ${direct.errors} | ${Math.round(direct.cpuUs)} (upstream) |`);
      rows.push(`| ${kind} | gateway, cache miss | ${Math.round(miss.rps)} | ${f2(miss.rps / direct.rps)} | ${miss.p50} | ${miss.p99} | ${miss.errors} | ${Math.round(miss.cpuUs)} |`);
      rows.push(`| ${kind} | gateway, cache hit | ${Math.round(hit.rps)} | ${f2(hit.rps / direct.rps)} | ${hit.p50} | ${hit.p99} | ${hit.errors} | ${Math.round(hit.cpuUs)} |`);
      rows.push(`| ${kind} | bare proxy (floor) | ${Math.round(floor.rps)} | ${f2(floor.rps / direct.rps)} | ${floor.p50} | ${floor.p99} | ${floor.errors} | ${Math.round(floor.cpuUs)} |`);
      rows.push(`| ${kind} | bare proxy, node:http client | ${Math.round(floorNode.rps)} | ${f2(floorNode.rps / direct.rps)} | ${floorNode.p50} | ${floorNode.p99} | ${floorNode.errors} | ${Math.round(floorNode.cpuUs)} |`);
      rows.push(`| ${kind} | TCP relay (no HTTP) | ${Math.round(bytes.rps)} | ${f2(bytes.rps / direct.rps)} | ${bytes.p50} | ${bytes.p99} | ${bytes.errors} | ${Math.round(bytes.cpuUs)} |`);
      // The direct path keeps both cores busy: the upstream (one core) and the load generator.
      // A proxy adds its own CPU per request to theirs, so it reaches half of direct only if it
      // costs no more than the two together.
      const budget = direct.cpuUs + direct.clientUs;
      const share = (r: typeof direct) => `${Math.round(r.cpuUs)} µs (${f2(r.cpuUs / budget)}× budget) → ${f2(r.rps / direct.rps)}`;
      ceiling.push(`| ${kind} | ${Math.round(direct.cpuUs)} + ${Math.round(direct.clientUs)} = ${Math.round(budget)} µs | ${share(bytes)} | ${share(floorNode)} | ${share(floor)} | ${share(miss)} |`);
      console.log(`  ${kind}: direct ${Math.round(direct.rps)} rps, gateway miss ${Math.round(miss.rps)} rps (${f2(miss.rps / direct.rps)}x), hit ${Math.round(hit.rps)} rps (${f2(hit.rps / direct.rps)}x); bare proxy ${Math.round(floor.rps)} rps (${f2(floor.rps / direct.rps)}x), with node:http's client ${f2(floorNode.rps / direct.rps)}x; TCP relay ${f2(bytes.rps / direct.rps)}x`);
    }

    const fixed: string[] = [];
    // the rate pools' connections open before the first measured slot
    for (const u of [fake.url, g.url, b.url]) await fixedRateSlot(u, false, true, undefined, 1000, body, 0.5);
    console.log('\n(b) fixed offered load 1,000 requests/s, %d s each, in %d interleaved rounds', SECONDS, ROUNDS);
    for (const stream of [false, true]) {
      const kind = stream ? 'streaming' : 'non-streaming';
      const rate = (url: string, unique: boolean, pid: number | undefined) => (seconds: number) => fixedRateSlot(url, stream, unique, pid, 1000, body, seconds);
      const { direct, miss, hit, floor } = await interleaved({
        direct: rate(fake.url, true, fake.proc.pid),
        miss: (t) => withGc(`(b) ${kind}, cache miss`, () => rate(g.url, true, g.proc.pid)(t)),
        hit: (t) => withGc(`(b) ${kind}, cache hit`, () => rate(g.url, false, g.proc.pid)(t)),
        floor: rate(b.url, true, b.proc.pid),
      });
      fixed.push(`| ${kind} | direct | ${Math.round(direct.achieved)} | ${f2(direct.p50)} | ${f2(direct.p99)} | — | — | ${Math.round(direct.cpuUs)} (upstream) |`);
      fixed.push(`| ${kind} | gateway, cache miss | ${Math.round(miss.achieved)} | ${f2(miss.p50)} | ${f2(miss.p99)} | ${f2(miss.p50 - direct.p50)} | ${f2(miss.p99 - direct.p99)} | ${Math.round(miss.cpuUs)} |`);
      fixed.push(`| ${kind} | gateway, cache hit | ${Math.round(hit.achieved)} | ${f2(hit.p50)} | ${f2(hit.p99)} | ${f2(hit.p50 - direct.p50)} | ${f2(hit.p99 - direct.p99)} | ${Math.round(hit.cpuUs)} |`);
      fixed.push(`| ${kind} | bare proxy (floor) | ${Math.round(floor.achieved)} | ${f2(floor.p50)} | ${f2(floor.p99)} | ${f2(floor.p50 - direct.p50)} | ${f2(floor.p99 - direct.p99)} | ${Math.round(floor.cpuUs)} |`);
      console.log(`  ${kind}: direct p50 ${f2(direct.p50)} p99 ${f2(direct.p99)} ms; gateway miss p50 ${f2(miss.p50)} p99 ${f2(miss.p99)} ms (added ${f2(miss.p50 - direct.p50)} / ${f2(miss.p99 - direct.p99)}); hit p50 ${f2(hit.p50)} ms; bare proxy p50 ${f2(floor.p50)} p99 ${f2(floor.p99)} ms`);
    }
    // (c) Requests the size of a Claude Code turn: the whole conversation (~100 KB) every time.
    const turn: string[] = [];
    console.log('\n(c) Claude Code-sized requests (%d KB body), streaming, cache miss, %d requests/s, %d s each', Math.round(turnBody(true, 0).length / 1024), TURN_RATE, SECONDS);
    {
      const turnRate = (url: string, pid: number | undefined) => (seconds: number) => fixedRateSlot(url, true, true, pid, TURN_RATE, turnBody, seconds);
      const { direct, miss, floor } = await interleaved({
        direct: turnRate(fake.url, fake.proc.pid),
        miss: (t) => withGc('(c) streaming, 100 KB body, cache miss', () => turnRate(g.url, g.proc.pid)(t)),
        floor: turnRate(b.url, b.proc.pid),
      });
      const row = (path: string, r: typeof direct, cpu: string) => `| ${path} | ${Math.round(r.achieved)} | ${f2(r.p50)} | ${f2(r.p99)} | ${path === 'direct' ? '—' : f2(r.p50 - direct.p50)} | ${path === 'direct' ? '—' : f2(r.p99 - direct.p99)} | ${cpu} |`;
      turn.push(row('direct', direct, `${Math.round(direct.cpuUs)} (upstream)`), row('gateway, cache miss', miss, String(Math.round(miss.cpuUs))), row('bare proxy (floor)', floor, String(Math.round(floor.cpuUs))));
      console.log(`  direct p50 ${f2(direct.p50)} p99 ${f2(direct.p99)} ms; gateway p50 ${f2(miss.p50)} p99 ${f2(miss.p99)} ms (added ${f2(miss.p50 - direct.p50)} / ${f2(miss.p99 - direct.p99)}), ${Math.round(miss.cpuUs)} µs CPU per request; bare proxy p50 ${f2(floor.p50)} p99 ${f2(floor.p99)} ms`);
    }
    const rss = peakRssMb(g.proc.pid as number);

    // For reference only (the headline is the single process above): `cco proxy --workers 2`,
    // non-streaming cache miss at saturation, against the same run's direct figure.
    let workersRow = '';
    if (process.env.BENCH_WORKERS !== '0') {
      g.proc.kill('SIGTERM');
      const w = await start([CLI, 'proxy', '--port', '0', '--workers', '2', '--log-level', 'warn', '--db-path', join(dir, 'bench-w.db'), '--cache-size', '500', '--cache-ttl', '3600'], { ...env, CCO_ANTHROPIC_BASE_URL: fake.url });
      try {
        await saturate(w.url, false, true);
        const r = await saturate(w.url, false, true);
        const direct = sat['non-streaming direct rps'] ?? NaN;
        workersRow = `| non-streaming | gateway --workers 2, cache miss | ${Math.round(r.rps)} | ${f2(r.rps / direct)} | ${r.p50} | ${r.p99} | ${r.errors} | — |`;
        console.log(`\n  --workers 2: non-streaming miss ${Math.round(r.rps)} rps (${f2(r.rps / direct)}x)`);
      } finally {
        w.proc.kill('SIGTERM');
      }
    }
    console.log(`\ngateway peak RSS: ${rss} MB`);
    console.log('\n### Gateway (cco proxy, one process) vs the fake upstream directly, same run\n');
    console.log('(a) Saturation, 100 connections (autocannon)\n');
    console.log('| answer | path | req/s | ratio to direct | p50 ms | p99 ms | errors | CPU µs/req |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (workersRow) console.log(workersRow);
    console.log('\n(a) What half of direct asks of a proxy: the direct path\'s CPU per request (upstream + load generator, both cores busy) is the budget a proxy must stay within; each proxy\'s CPU per request and the ratio it reached\n');
    console.log('| answer | budget: upstream + load generator | TCP relay (no HTTP) | bare proxy, node:http client | bare proxy, undici | gateway, cache miss |');
    console.log('|---|---|---|---|---|---|');
    for (const r of ceiling) console.log(r);
    console.log('\n(b) Fixed offered load, 1,000 requests/s\n');
    console.log('| answer | path | achieved req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/req |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of fixed) console.log(r);
    console.log(`\n(c) Claude Code-sized requests (${Math.round(turnBody(true, 0).length / 1024)} KB body: system, ${TURN_MESSAGES} earlier messages, metadata), streaming, cache miss, ${TURN_RATE} requests/s\n`);
    console.log('| path | achieved req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/req |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of turn) console.log(r);
    if (GC) {
      console.log('\nGC in the gateway per scenario (BENCH_GC=1, from --trace-gc-nvp)\n');
      console.log('| scenario | KB allocated/req | KB promoted/req | scavenges | mark-compacts | GC pause µs/req | longest pause ms |');
      console.log('|---|---|---|---|---|---|---|');
      for (const r of gcRows()) console.log(r);
    }
    console.log(`\nGateway peak RSS under load: ${rss} MB. Saturation ratio (non-streaming miss): ${f1(100 * (sat['non-streaming miss'] ?? 0))}% of direct.`);
    console.log(`Load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}.`);
  } finally {
    for (const p of ratePools.values()) await p.close();
    ratePools.clear();
    gw?.proc.kill('SIGTERM');
    bare?.proc.kill('SIGTERM');
    bareNode?.proc.kill('SIGTERM');
    relay?.proc.kill('SIGTERM');
    fake.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}
