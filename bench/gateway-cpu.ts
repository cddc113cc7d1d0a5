/**
 * The gateway's CPU per request, for comparing builds (not part of `npm run bench`).
 *
 * Why: req/s and latency move with whatever else runs on this shared 2-core machine, and a change
 * worth 5–10 % of the gateway's CPU disappears in them. CPU time per request moves much less, so
 * builds are compared on it, in interleaved rounds (A, B, A, B ...) so that a slow phase of the
 * machine hits both. Each run: the fake upstream and `cco proxy` of one checkout (each a process
 * of its own, the flags of bench/gateway.bench.ts), a warm-up, then a fixed number of cache misses
 * from 10 keep-alive connections in a closed loop; the gateway's user + system CPU (whole process
 * and its main thread, from /proc) divided by the requests.
 *
 * Usage (each checkout built with `npm run build`):
 *   node --import tsx bench/gateway-cpu.ts [--stream] [--rounds 3] [--requests 20000] <checkout>...
 * e.g. a worktree of the previous commit beside this one: `... /tmp/before .`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { cpuMicros, startFakeUpstream, start } from './processes.js';
import type { Child } from './processes.js';

const { values: opts, positionals: checkouts } = parseArgs({
  allowPositionals: true,
  options: { stream: { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' }, requests: { type: 'string', default: '20000' } },
});
if (!checkouts.length) throw new Error('usage: gateway-cpu.ts [--stream] [--rounds N] [--requests N] <checkout>...');
const ROUNDS = Number(opts.rounds);
const REQUESTS = Number(opts.requests);
const CONNECTIONS = 10;
const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'bench-key', 'anthropic-version': '2023-06-01' };
let counter = 0;
const body = () => JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: opts.stream, messages: [{ role: 'user', content: `Request number ${counter++}` }] });

async function closedLoop(pool: Pool, n: number): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (sent++ < n) {
        const r = await pool.request({ path: '/v1/messages', method: 'POST', headers: HEADERS, body: body() });
        await r.body.text();
        if (r.statusCode !== 200) throw new Error(`gateway answered ${r.statusCode}`);
      }
    }),
  );
}

async function measure(checkout: string): Promise<{ total: number; main: number; ms: number }> {
  const root = resolve(checkout);
  const dir = mkdtempSync(join(tmpdir(), 'cco-gw-cpu-'));
  const env = { ...process.env, CCO_HOME: join(dir, 'home'), CCO_CONFIG_DIR: join(dir, 'config'), CCO_RUNTIME_DIR: join(dir, 'run'), DATABASE_URL: '', REDIS_URL: '' };
  const fake = await startFakeUpstream(root, env);
  let gw: Child | undefined;
  try {
    gw = await start([join(root, 'dist', 'cco', 'main.js'), 'proxy', '--port', '0', '--log-level', 'warn', '--db-path', join(dir, 'bench.db'), '--cache-size', '500', '--cache-ttl', '3600'], { ...env, CCO_ANTHROPIC_BASE_URL: fake.url });
    const pid = gw.proc.pid as number;
    const pool = new Pool(gw.url, { connections: CONNECTIONS });
    await closedLoop(pool, Math.min(5000, REQUESTS)); // JIT, pools, the cache's window filling
    const c0 = cpuMicros(pid);
    const m0 = cpuMicros(pid, pid);
    const t0 = performance.now();
    await closedLoop(pool, REQUESTS);
    const ms = performance.now() - t0;
    const out = { total: (cpuMicros(pid) - c0) / REQUESTS, main: (cpuMicros(pid, pid) - m0) / REQUESTS, ms };
    await pool.close();
    return out;
  } finally {
    gw?.proc.kill();
    fake.proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = new Map<string, { total: number[]; main: number[] }>(checkouts.map((c) => [c, { total: [], main: [] }]));
console.log(`gateway CPU per ${opts.stream ? 'streamed' : 'non-streamed'} cache miss, ${REQUESTS} requests over ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds\n`);
console.log('| round | checkout | µs per request (process) | of which main thread | wall ms |\n|---|---|---:|---:|---:|');
for (let round = 1; round <= ROUNDS; round++) {
  for (const c of checkouts) {
    const r = await measure(c);
    results.get(c)?.total.push(r.total);
    results.get(c)?.main.push(r.main);
    console.log(`| ${round} | ${c} | ${r.total.toFixed(0)} | ${r.main.toFixed(0)} | ${r.ms.toFixed(0)} |`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log('\n| checkout | mean µs per request | main thread | vs the first |\n|---|---:|---:|---:|');
const first = mean(results.get(checkouts[0] as string)?.total ?? []);
for (const [c, r] of results) console.log(`| ${c} | ${mean(r.total).toFixed(0)} | ${mean(r.main).toFixed(0)} | ${(((mean(r.total) - first) / first) * 100).toFixed(1)} % |`);
