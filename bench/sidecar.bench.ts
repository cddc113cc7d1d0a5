/**
 * Sidecar under 119 concurrent simulated agents. Each agent loops: GET its context (warm after
 * the first), POST a result, publish an event for the next agent, wait for its own (long-poll).
 * Two measurements of that loop, like the gateway's:
 *  (a) saturation: every agent loops with no pause, giving the sidecar's throughput (req/s);
 *  (b) a fixed offered load of 5,000 req/s (the throughput target) spread over the 119 agents,
 *      each starting an iteration on its own schedule: the latency per route at that load.
 * Latency targets are read from (b): in a closed loop with no pause the mean latency is just
 * agents ÷ throughput (Little's law: 119 / 5,000 req/s = 24 ms), whatever the server does.
 * A third phase measures publish → waiter wake latency with 119 parked waiters. The baseline
 * is a bare Fastify `/health` under the same client load, in the same run. The server runs in
 * its own process (src/sidecar/bench-server.ts); this process only generates load.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { WalWrites } from '../src/sidecar/wal-account.js';

const AGENTS = Number(process.env.SIDECAR_BENCH_AGENTS ?? 119);
const LOOP_MS = Number(process.env.SIDECAR_BENCH_MS ?? 5000);
/** The offered load of measurement (b): the issue's throughput target. */
const PACED_RPS = Number(process.env.SIDECAR_BENCH_PACED_RPS ?? 5000);

/** Garbage-collection pauses: how many, their sum and the longest (ms). */
interface GcFigures {
  count: number;
  total_ms: number;
  max_ms: number;
}

/** Event-loop delay (ms) and garbage-collection pauses of the server since the last ask. */
interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  gc?: GcFigures & { minor?: GcFigures; major?: GcFigures };
}

/** Cumulative request-duration histogram per route inside the server: bucket upper bound (s) → count. */
type Latency = Record<string, Record<string, number>>;

interface Server {
  child: ChildProcess;
  info: { url: string; types?: string[]; tokens?: string[] };
  /** The server process's CPU time so far (µs). */
  cpu(): Promise<number>;
  /** The server's main thread's CPU time so far (µs, 10 ms resolution; NaN off Linux). */
  mainCpu(): Promise<number>;
  /** The sidecar's own request-duration histogram so far (sidecar only). */
  latency(): Promise<Latency>;
  /** Event-loop delay (ms) since the last call: stalls that hold up every request at once. */
  loopDelay(): Promise<LoopDelay>;
  /** Any other command of the server (e.g. prof-start / prof-stop). */
  ask(cmd: string): Promise<unknown>;
}

function startServer(mode: 'baseline' | 'sidecar' | 'floor', extra: string[] = []): Promise<Server> {
  return new Promise((resolve, reject) => {
    const prof = process.env.SIDECAR_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SIDECAR_BENCH_PROF}`] : [];
    // Extra Node/V8 flags for the server process while investigating (e.g. --trace-gc).
    prof.push(...(process.env.SIDECAR_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
    const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'src/sidecar/bench-server.ts', mode, String(AGENTS), ...extra], { stdio: ['pipe', 'pipe', 'inherit'] });
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    type Answer = { cpu_us?: number; main_us?: number; lat?: Latency; eld?: LoopDelay };
    const pending: ((m: Answer) => void)[] = [];
    const ask = (cmd: string): Promise<Answer> =>
      new Promise((res) => {
        pending.push(res);
        child.stdin?.write(`${cmd}\n`);
      });
    let info: Server['info'] | undefined;
    rl.on('line', (line) => {
      // what V8 prints for tracing flags (--trace-gc ...) shares the server's stdout
      if (!line.startsWith('{')) {
        if (process.env.SIDECAR_BENCH_TRACE) appendFileSync(process.env.SIDECAR_BENCH_TRACE, `${line}\n`);
        return;
      }
      if (!info) {
        info = JSON.parse(line) as Server['info'];
        resolve({
          child,
          info,
          cpu: async () => (await ask('cpu')).cpu_us ?? NaN,
          mainCpu: async () => (await ask('cpu')).main_us ?? NaN,
          latency: async () => (await ask('lat')).lat ?? {},
          loopDelay: async () => (await ask('eld')).eld ?? { p50: NaN, p99: NaN, max: NaN },
          ask,
        });
        return;
      }
      pending.shift()?.(JSON.parse(line) as Answer);
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

async function stopServer(s: Server): Promise<void> {
  s.child.removeAllListeners('exit');
  await new Promise<void>((resolve) => {
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
    setTimeout(() => s.child.kill('SIGKILL'), 5000).unref();
  });
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
};
const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const gcPart = (g: GcFigures | undefined): string => (g ? `${g.count}, ${g.total_ms} ms, longest ${g.max_ms} ms` : '-');

/** Requests per histogram bucket between two snapshots of one route (cumulative counts). */
function bucketDelta(a: Record<string, number>, b: Record<string, number>): { count: number; cum: [number, number][] } {
  const cum = Object.keys(b)
    .map((le) => [le === '+Inf' ? Infinity : Number(le) * 1000, (b[le] ?? 0) - (a[le] ?? 0)] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  return { count: cum.at(-1)?.[1] ?? 0, cum };
}
/** The bucket bound (ms) at or below which p% of the requests finished. */
function bucketPct(d: { count: number; cum: [number, number][] }, p: number): string {
  if (d.count === 0) return '-';
  const hit = d.cum.find(([, n]) => n >= (p / 100) * d.count);
  return hit ? (Number.isFinite(hit[0]) ? String(hit[0]) : '> 1000') : '-';
}

class Recorder {
  readonly by = new Map<string, number[]>();
  errors = 0;
  add(route: string, ms: number): void {
    let a = this.by.get(route);
    if (!a) this.by.set(route, (a = []));
    a.push(ms);
  }
  get total(): number {
    let n = 0;
    for (const a of this.by.values()) n += a.length;
    return n;
  }
}

/**
 * One request through undici's `dispatch`, the answer collected as bytes (or, for a context, only
 * received): no Readable stream and body mixin per answer as `pool.request` makes them. This
 * process shares the two cores with the sidecar, and what it spends per request is taken from
 * the sidecar's share: 84–93 µs of CPU per request where `request()` took 94–99 (three interleaved
 * pairs, 2026-12-07; docs/benchmarks/sidecar.md). `SIDECAR_BENCH_CLIENT=request` runs the bench
 * with `request()` again, for comparison.
 */
function send(pool: Pool, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, keep: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    pool.dispatch(body === undefined ? { method, path, headers } : { method, path, headers, body }, {
      // (undici takes a handler for its current API only when it has onRequestStart)
      onRequestStart() {},
      onResponseStart(_c, code) {
        status = code;
      },
      onResponseData(_c, chunk) {
        // an error's text is kept even where the answer itself is not
        if (keep || status >= 400) chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ status, text: chunks.length ? Buffer.concat(chunks).toString() : '' });
      },
      onResponseError(_c, e) {
        reject(e);
      },
    });
  });
}

async function req(pool: Pool, rec: Recorder, route: string, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<{ status: number; readonly json: unknown }> {
  const t0 = performance.now();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  // A context (~43 KB) is received in full but not decoded into a string: 54 MB/s of strings
  // made this process's own GC pause for up to 57 ms, and its pauses are counted in every
  // latency it measures. What the sidecar does is the same either way.
  const via = process.env.SIDECAR_BENCH_CLIENT === 'request' ? viaRequest : send;
  const r = await via(pool, method, path, headers, body === undefined ? undefined : JSON.stringify(body), !route.startsWith('context'));
  rec.add(route, performance.now() - t0);
  if (r.status >= 400) rec.errors++;
  const text = r.text;
  // Parsed only when read (waits), as this process shares the two cores.
  return {
    status: r.status,
    get json(): unknown {
      return text ? (JSON.parse(text) as unknown) : null;
    },
  };
}

/** The bench's client before 2026-12-07 (`SIDECAR_BENCH_CLIENT=request`). */
async function viaRequest(pool: Pool, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, keep: boolean): Promise<{ status: number; text: string }> {
  const r = await pool.request({ method, path, headers, ...(body !== undefined ? { body } : {}) });
  const drain = !keep && r.statusCode < 400;
  const text = drain ? (await r.body.dump({ limit: 4 << 20 }), '') : await r.body.text();
  return { status: r.statusCode, text };
}

/**
 * Phase (b)'s schedule: each agent starts an iteration every `period` ms, agents staggered evenly
 * across the period; a late iteration starts at once. Resolves with the iterations started more
 * than a period late.
 */
async function paced(iterations: number, period: number, iteration: (agent: number, n: number) => Promise<void>): Promise<number> {
  const p0 = performance.now();
  let late = 0;
  await Promise.all(Array.from({ length: AGENTS }, async (_x, i) => {
    let due = p0 + (i * period) / AGENTS;
    for (let n = 0; n < iterations; n++, due += period) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -period) late++;
      await iteration(i, n);
    }
  }));
  return late;
}

/**
 * Bare Fastify `/health`: (a) the same closed loop, and (b) the same offered load and schedule
 * (four requests per iteration): the latency floor of this machine, this load generator and
 * loopback at 5,000 req/s, with a server that does almost nothing.
 */
async function baseline(): Promise<{ rps: number; p50: number; p99: number; cpuPerReq: number; pacedP50: number; pacedP99: number }> {
  const s = await startServer('baseline');
  const pool = new Pool(s.info.url, { connections: AGENTS + 8 });
  const rec = new Recorder();
  const end = performance.now() + Math.min(LOOP_MS, 3000);
  const cpu0 = await s.cpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: AGENTS }, async () => {
    while (performance.now() < end) await req(pool, rec, 'health', 'GET', '/health');
  }));
  const secs = (performance.now() - t0) / 1000;
  const cpu = (await s.cpu()) - cpu0;
  const period = (4 * AGENTS * 1000) / PACED_RPS;
  const floor = new Recorder();
  await paced(Math.max(1, Math.floor(Math.min(LOOP_MS, 3000) / period)), period, async () => {
    for (let k = 0; k < 4; k++) await req(pool, floor, 'health', 'GET', '/health');
  });
  await pool.close();
  await stopServer(s);
  const all = rec.by.get('health') ?? [];
  const fl = floor.by.get('health') ?? [];
  return { rps: all.length / secs, p50: pct(all, 50), p99: pct(all, 99), cpuPerReq: cpu / all.length, pacedP50: pct(fl, 50), pacedP99: pct(fl, 99) };
}

/**
 * One iteration of an agent's loop: its context, a result, a publish for the next agent, a wait
 * for its own (the previous agent's publish). `label` marks the results of a phase.
 */
function loopIteration(pool: Pool, rec: Recorder, types: string[], tokens: string[], cursors: number[], label: string): (i: number, n: number) => Promise<void> {
  return async (i, n) => {
    const t = types[i] as string;
    const tok = tokens[i] as string;
    const next = (i + 1) % AGENTS;
    await req(pool, rec, 'context (warm)', 'GET', `/api/context/ctx-${i % 7}/${t}?q=payments+refunds`, tok);
    await req(pool, rec, 'results', 'POST', '/api/results', tok, { agent_id: `${t}-${i}`, agent_type: t, issue_id: `issue-${i}`, result: { status: 'success', summary: `${label} ${n}`, decisions: [`decision ${n} of ${t}`], files_created: ['a.py'] } });
    await req(pool, rec, 'publish', 'POST', '/api/events/step', tok, { topic: `agent-${next}`, data: { n } });
    const w = await req(pool, rec, 'wait', 'GET', `/api/events/wait/step?filter=topic:agent-${i}&after=${cursors[i]}&timeout=2000&limit=100`, tok);
    cursors[i] = (w.json as { cursor: number }).cursor;
  };
}

/**
 * Phase (b) again, against Fastify answering the same four routes with canned answers of the
 * same sizes (bench-server `floor`): what HTTP, the JSON bodies and the contexts cost at this
 * load on this machine, with this load generator. The sidecar's figures cannot go below it.
 */
async function floorRun(contextBytes: number, iterations: number, period: number): Promise<{ rec: Recorder; cpuPerReq: number; rps: number }> {
  const s = await startServer('floor', [String(contextBytes)]);
  const { url, types = [], tokens = [] } = s.info;
  const pool = new Pool(url, { connections: AGENTS * 2 + 8 });
  const cursors = new Array<number>(AGENTS).fill(0);
  // warm-up (JIT, connections), not measured
  await paced(Math.max(1, Math.floor(1000 / period)), period, loopIteration(pool, new Recorder(), types, tokens, cursors, 'warm'));
  const rec = new Recorder();
  const cpu0 = await s.cpu();
  const t0 = performance.now();
  await paced(iterations, period, loopIteration(pool, rec, types, tokens, cursors, 'paced'));
  const secs = (performance.now() - t0) / 1000;
  const cpu = (await s.cpu()) - cpu0;
  await pool.close();
  await stopServer(s);
  return { rec, cpuPerReq: cpu / Math.max(1, rec.total), rps: rec.total / secs };
}

export async function run(): Promise<void> {
  const base = await baseline();
  const s = await startServer('sidecar');
  const { url, types = [], tokens = [] } = s.info;
  const pool = new Pool(url, { connections: AGENTS * 2 + 8 });
  const rec = new Recorder();

  // cold contexts: the first fetch of each agent type
  await Promise.all(types.map((t, i) => req(pool, rec, 'context (cold)', 'GET', `/api/context/ctx-${i % 7}/${t}?q=payments+refunds`, tokens[i])));

  // mixed loop
  const cursors = new Array<number>(AGENTS).fill(0);
  const end = performance.now() + LOOP_MS;
  const lat0 = await s.latency();
  const cpu0 = await s.cpu();
  const main0 = await s.mainCpu();
  const t0 = performance.now();
  const iteration = loopIteration(pool, rec, types, tokens, cursors, 'round');
  await Promise.all(types.map(async (_t, i) => {
    for (let n = 0; performance.now() < end; n++) await iteration(i, n);
  }));
  const secs = (performance.now() - t0) / 1000;
  const loopCpu = (await s.cpu()) - cpu0;
  const loopMain = (await s.mainCpu()) - main0;
  const lat1 = await s.latency();
  const loopRequests = ['context (warm)', 'results', 'publish', 'wait'].reduce((n, r) => n + (rec.by.get(r)?.length ?? 0), 0);
  const rps = loopRequests / secs;

  // (b) the same loop at a fixed offered load: each agent starts an iteration (4 requests) every
  // `period` ms (see `paced`).
  const pacedRec = new Recorder();
  const period = (4 * AGENTS * 1000) / PACED_RPS;
  // The same number of iterations for every agent, so each wait has a publish to wake it.
  const iterations = Math.max(1, Math.floor(LOOP_MS / period));
  const pacedLat0 = await s.latency();
  const pacedCpu0 = await s.cpu();
  const pacedMain0 = await s.mainCpu();
  await s.loopDelay();
  if (process.env.SIDECAR_BENCH_PHASE_PROF) await s.ask('prof-start');
  if (process.env.SIDECAR_BENCH_PHASE_HEAP) await s.ask('heap-start');
  // This process's own stalls inflate what it measures: reported beside the sidecar's.
  const clientLoop = monitorEventLoopDelay({ resolution: 1 });
  clientLoop.enable();
  const clientGc: GcFigures = { count: 0, total_ms: 0, max_ms: 0 };
  const clientGcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      clientGc.count++;
      clientGc.total_ms += e.duration;
      clientGc.max_ms = Math.max(clientGc.max_ms, e.duration);
    }
  });
  clientGcObserver.observe({ entryTypes: ['gc'] });
  const clientCpu0 = process.cpuUsage();
  const p0 = performance.now();
  // SIDECAR_BENCH_SNAP=<file>: a heap snapshot of the sidecar halfway through (b)
  if (process.env.SIDECAR_BENCH_SNAP) setTimeout(() => void s.ask('snap'), LOOP_MS / 2);
  const late = await paced(iterations, period, loopIteration(pool, pacedRec, types, tokens, cursors, 'paced'));
  const pacedSecs = (performance.now() - p0) / 1000;
  const pacedRps = pacedRec.total / pacedSecs;
  const clientCpu = process.cpuUsage(clientCpu0);
  const pacedCpu = (await s.cpu()) - pacedCpu0;
  const pacedMain = (await s.mainCpu()) - pacedMain0;
  if (process.env.SIDECAR_BENCH_PHASE_PROF) await s.ask('prof-stop');
  if (process.env.SIDECAR_BENCH_PHASE_HEAP) await s.ask('heap-stop');
  const pacedLoop = await s.loopDelay();
  clientLoop.disable();
  clientGcObserver.disconnect();
  const pacedLat1 = await s.latency();
  rec.errors += pacedRec.errors;

  // (b') what the loop writes to SQLite's WAL, at (b)'s load: pages per request and per b-tree.
  // A steady figure (the checkpoints' copying and fsyncs, the bulk of (b)'s tail, scale with it),
  // measured apart from (b) because it holds the checkpoints off (see WalAccount).
  const walRec = new Recorder();
  await s.ask('wal-start');
  await paced(Math.max(1, Math.floor(Math.min(LOOP_MS, 3000) / period)), period, loopIteration(pool, walRec, types, tokens, cursors, 'wal'));
  const wal = ((await s.ask('wal-stop')) as { wal?: WalWrites }).wal;
  rec.errors += walRec.errors;

  // wake latency: 119 waiters parked, then one publish per waiter (sequential), each timed
  const wake: number[] = [];
  const wakeEnd = performance.now() + 3000;
  let round = 0;
  while (performance.now() < wakeEnd) {
    round++;
    const heads = await Promise.all(types.map(async (_t, i) => {
      const r = await req(pool, rec, 'events list', 'GET', `/api/events?event_type=wake&filter=topic:w-${i}&after=0&limit=1000`, tokens[i]);
      return (r.json as { cursor: number }).cursor;
    }));
    // each waiter's promise gives the time its answer arrived (taken in its own callback)
    const waits = types.map(async (_t, i) => {
      const r = await pool.request({ method: 'GET', path: `/api/events/wait/wake?filter=topic:w-${i}&after=${heads[i]}&timeout=5000`, headers: { authorization: `Bearer ${tokens[i]}` } });
      await r.body.text();
      return performance.now();
    });
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < AGENTS; i++) {
      const sent = performance.now();
      await pool.request({ method: 'POST', path: '/api/events/wake', headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' }, body: JSON.stringify({ topic: `w-${i}`, data: { round } }) }).then((r) => r.body.text());
      // wait for this waiter to wake before the next publish, so latencies do not queue (awaited,
      // not polled: a setImmediate loop here kept one of the two cores busy for the whole phase)
      wake.push((await (waits[i] as Promise<number>)) - sent);
    }
    await Promise.all(waits);
  }
  // per-route CPU cost: each route alone, 32 concurrent clients, 1.5 s
  const cost: [string, number, number, number][] = [];
  const alone: [string, (i: number, n: number) => Promise<unknown>][] = [
    ['context (warm)', (i) => req(pool, rec, 'x', 'GET', `/api/context/ctx-${i % 7}/${types[i]}?q=payments+refunds`, tokens[i])],
    ['results', (i, n) => req(pool, rec, 'x', 'POST', '/api/results', tokens[i], { agent_id: `${types[i]}-${i}`, agent_type: types[i], issue_id: `issue-${i}`, result: { status: 'success', summary: `round ${n}`, decisions: [`decision ${n}`] } })],
    ['publish', (i, n) => req(pool, rec, 'x', 'POST', '/api/events/solo', tokens[i], { topic: `solo-${i}`, data: { n } })],
    ['wait (event ready)', (i) => req(pool, rec, 'x', 'GET', `/api/events/wait/solo?filter=topic:solo-${i}&after=0&timeout=1000&limit=1`, tokens[i])],
    ['health', () => req(pool, rec, 'x', 'GET', '/health')],
  ];
  for (const [name, fn] of alone) {
    const stopAt = performance.now() + 1500;
    let count = 0;
    const c0 = await s.cpu();
    const m0 = await s.mainCpu();
    await Promise.all(Array.from({ length: 32 }, async (_x, k) => {
      for (let n = 0; performance.now() < stopAt; n++) {
        await fn(k, n);
        count++;
      }
    }));
    cost.push([name, count, ((await s.cpu()) - c0) / count, ((await s.mainCpu()) - m0) / count]);
  }
  const status = await req(pool, rec, 'status', 'GET', '/status');
  // the size of a context, for the floor's canned one
  const one = await pool.request({ method: 'GET', path: `/api/context/ctx-0/${types[0]}?q=payments+refunds`, headers: { authorization: `Bearer ${tokens[0]}` } });
  const contextBytes = (await one.body.arrayBuffer()).byteLength;
  await pool.close();
  await stopServer(s);
  const fl = await floorRun(contextBytes, iterations, period);

  const rows: string[][] = [];
  for (const route of ['context (cold)', 'context (warm)', 'results', 'publish', 'wait']) {
    const xs = rec.by.get(route) ?? [];
    rows.push([route, String(xs.length), f(pct(xs, 50)), f(pct(xs, 99))]);
  }
  const target = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const p99 = (r: string): number => pct(pacedRec.by.get(r) ?? [], 99);
  console.log(`\n${AGENTS} concurrent agents, mixed loop (context → result → publish → wait), ${rec.errors} errors`);
  console.log(`\n(a) saturation, ${(LOOP_MS / 1000).toFixed(0)} s, no pause between requests: ${rps.toFixed(0)} req/s\n`);
  console.log('| route | requests | p50 ms | p99 ms |\n|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\n(b) fixed offered load ${PACED_RPS} req/s, ${(LOOP_MS / 1000).toFixed(0)} s (each agent one iteration every ${period.toFixed(1)} ms): achieved ${pacedRps.toFixed(0)} req/s, ${late} iterations more than a period late\n`);
  console.log('| route | requests | p50 ms | p99 ms |\n|---|---:|---:|---:|');
  for (const route of ['context (warm)', 'results', 'publish', 'wait']) {
    const xs = pacedRec.by.get(route) ?? [];
    console.log(`| ${route} | ${xs.length} | ${f(pct(xs, 50))} | ${f(pct(xs, 99))} |`);
  }
  console.log(`| baseline: bare Fastify /health, same load and schedule | | ${f(base.pacedP50)} | ${f(base.pacedP99)} |`);
  for (const route of ['context (warm)', 'results', 'publish', 'wait']) {
    const xs = fl.rec.by.get(route) ?? [];
    console.log(`| floor: ${route}, canned answers of the same sizes, same load and schedule | ${xs.length} | ${f(pct(xs, 50))} | ${f(pct(xs, 99))} |`);
  }
  const cms = (ns: number): string => f(ns / 1e6);
  console.log(`\nDuring (b): event-loop delay of the sidecar p50 ${f(pacedLoop.p50)} / p99 ${f(pacedLoop.p99)} / max ${f(pacedLoop.max)} ms, of this load generator p50 ${cms(clientLoop.percentile(50))} / p99 ${cms(clientLoop.percentile(99))} / max ${cms(clientLoop.max)} ms (its CPU ${((clientCpu.user + clientCpu.system) / pacedRec.total).toFixed(0)} µs per request, its GC ${gcPart({ ...clientGc, total_ms: Math.round(clientGc.total_ms), max_ms: Math.round(clientGc.max_ms * 100) / 100 })}); sidecar GC ${pacedLoop.gc?.count ?? '-'} pauses, ${pacedLoop.gc?.total_ms ?? '-'} ms in all, longest ${pacedLoop.gc?.max_ms ?? '-'} ms (scavenges ${gcPart(pacedLoop.gc?.minor)}; mark-compact ${gcPart(pacedLoop.gc?.major)}); sidecar CPU ${(pacedCpu / pacedRec.total).toFixed(0)} µs per request (main thread ${(pacedMain / pacedRec.total).toFixed(0)} µs, busy ${((100 * pacedMain) / 1e6 / pacedSecs).toFixed(0)} %); time inside the sidecar:\n`);
  console.log('| route | requests | p50 ≤ ms | p99 ≤ ms |\n|---|---:|---:|---:|');
  for (const [name, route] of [['context (warm)', '/api/context/:issueId/:agentType'], ['results', '/api/results'], ['publish', '/api/events/:eventType']] as const) {
    const d = bucketDelta(pacedLat0[route] ?? {}, pacedLat1[route] ?? {});
    console.log(`| ${name} | ${d.count} | ${bucketPct(d, 50)} | ${bucketPct(d, 99)} |`);
  }
  if (wal) {
    const reqs = walRec.total;
    const iters = reqs / 4;
    console.log(`\n(b') WAL written at (b)'s load, ${reqs} requests, checkpoints held off: ${f((wal.frames * wal.pageSize) / reqs / 1024)} KB per request (${f(wal.frames / iters)} pages of ${wal.pageSize / 1024} KB per iteration), ${wal.commits} commits of ${f(wal.frames / Math.max(1, wal.commits))} pages on average\n`);
    console.log('| b-tree | pages per iteration | share |\n|---|---:|---:|');
    for (const [tree, n] of Object.entries(wal.byTree).sort((x, y) => y[1] - x[1])) console.log(`| ${tree} | ${f(n / iters)} | ${((100 * n) / wal.frames).toFixed(0)} % |`);
  }
  console.log(`\n| figure | value | baseline (bare Fastify /health, same load) | ratio |\n|---|---:|---:|---:|`);
  console.log(`| requests/s (mixed loop) | ${rps.toFixed(0)} | ${base.rps.toFixed(0)} | ${(rps / base.rps).toFixed(2)} |`);
  console.log(`| p50 ms per request (all loop routes) | ${f(pct([...['context (warm)', 'results', 'publish', 'wait'].flatMap((r) => rec.by.get(r) ?? [])], 50))} | ${f(base.p50)} | |`);
  const pacedAll = ['context (warm)', 'results', 'publish', 'wait'].flatMap((r) => pacedRec.by.get(r) ?? []);
  console.log(`| (b) p50 ms per request (all loop routes, ${PACED_RPS} req/s) | ${f(pct(pacedAll, 50))} | ${f(base.pacedP50)} | ${(pct(pacedAll, 50) / base.pacedP50).toFixed(2)} |`);
  console.log(`| (b) p99 ms per request (all loop routes, ${PACED_RPS} req/s) | ${f(pct(pacedAll, 99))} | ${f(base.pacedP99)} | ${(pct(pacedAll, 99) / base.pacedP99).toFixed(2)} |`);
  const cpuPerReq = loopCpu / loopRequests;
  console.log(`| sidecar CPU per request, µs (load-independent) | ${cpuPerReq.toFixed(0)} | ${base.cpuPerReq.toFixed(0)} | ${(cpuPerReq / base.cpuPerReq).toFixed(2)} |`);
  console.log(`| (b) server CPU per request, µs: sidecar vs the floor (same routes, canned answers of the same sizes, ${(contextBytes / 1024).toFixed(0)} KB contexts) | ${(pacedCpu / pacedRec.total).toFixed(0)} | ${fl.cpuPerReq.toFixed(0)} | ${(pacedCpu / pacedRec.total / fl.cpuPerReq).toFixed(2)} |`);
  console.log(`| sidecar main-thread CPU per request, µs (the event loop's share) | ${(loopMain / loopRequests).toFixed(0)} | | |`);
  console.log(`| capacity at 100% of one core, req/s (1e6 / CPU per request) | ${(1e6 / cpuPerReq).toFixed(0)} | ${(1e6 / base.cpuPerReq).toFixed(0)} | ${(base.cpuPerReq / cpuPerReq).toFixed(2)} |`);
  console.log(`| publish → wake p50 ms | ${f(pct(wake, 50))} | | |`);
  console.log(`| publish → wake p99 ms | ${f(pct(wake, 99))} | | |`);
  console.log('\n| route (mixed loop), time inside the sidecar | requests | p50 ≤ ms | p99 ≤ ms |\n|---|---:|---:|---:|');
  for (const [name, route] of [['context (warm)', '/api/context/:issueId/:agentType'], ['results', '/api/results'], ['publish', '/api/events/:eventType']] as const) {
    const d = bucketDelta(lat0[route] ?? {}, lat1[route] ?? {});
    console.log(`| ${name} | ${d.count} | ${bucketPct(d, 50)} | ${bucketPct(d, 99)} |`);
  }
  console.log('\n| route alone (32 clients) | requests | server CPU µs per request | of which main thread |\n|---|---:|---:|---:|');
  for (const [name, n, us, main] of cost) console.log(`| ${name} | ${n} | ${us.toFixed(0)} | ${main.toFixed(0)} |`);
  console.log(`\nTargets (latencies from (b), throughput from (a)): results p99 < 10 ms: ${target(p99('results') < 10)} (${f(p99('results'))}); publish p99 < 10 ms: ${target(p99('publish') < 10)} (${f(p99('publish'))}); wait p99 < 10 ms: ${target(p99('wait') < 10)} (${f(p99('wait'))}); context warm p99 < 20 ms: ${target(p99('context (warm)') < 20)} (${f(p99('context (warm)'))}); >= 5000 req/s: ${target(rps >= 5000)} (${rps.toFixed(0)}); wake p99 < 5 ms: ${target(pct(wake, 99) < 5)} (${f(pct(wake, 99))}); (b) achieved its offered load: ${target(pacedRps >= 0.97 * PACED_RPS)} (${pacedRps.toFixed(0)})`);
  console.log(`Sidecar /status after the run: ${JSON.stringify((status.json as { performance: unknown }).performance)}`);
}
