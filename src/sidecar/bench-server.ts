/**
 * The server side of bench/sidecar.bench.ts, run in its own process so that the load generator
 * does not share the sidecar's event loop. `baseline` serves a bare Fastify `/health`; `floor`
 * serves the sidecar's four loop routes with canned answers of the same sizes (see `serveFloor`);
 * `sidecar` starts a real sidecar (temp home, SQLite store, generated project) with a catalog
 * of `agents` types and prints one JSON line: URL and one token per agent.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify from 'fastify';
import type { Registry } from 'prom-client';
import type { FastHistogram } from '../server/fast-histogram.js';
import { catalogOf } from '../agents/catalog.js';
import { agentDef, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';
import { WalAccount } from './wal-account.js';

const INCLUDES = [['**/*.py'], ['**/*.ts', '**/*.tsx'], ['**/*.go'], ['**/*.md'], ['**/*']];

/**
 * Answers each `cpu` line on stdin with this process's CPU time (µs), for load-independent
 * costs, and each `lat` line with the sidecar's own request-duration histogram per route (the
 * time from request to response inside the server, without the client's queueing).
 */
function serveQueries(registry: () => Registry | undefined, storeFile: () => string | undefined): void {
  let wal: WalAccount | undefined;
  // Event-loop stalls show up in every route's tail at once; `eld` reports and resets them.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  // Garbage-collection pauses, one of the things that stall the loop.
  // Per kind too: scavenges (young generation) and mark-compacts stall for different reasons.
  const fresh = () => ({ count: 0, total: 0, max: 0, minor: { count: 0, total: 0, max: 0 }, major: { count: 0, total: 0, max: 0 } });
  let gc = fresh();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      for (const g of [gc, kind === constants.NODE_PERFORMANCE_GC_MINOR ? gc.minor : gc.major]) {
        g.count++;
        g.total += e.duration;
        g.max = Math.max(g.max, e.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  // the inspector session of the profiling commands, connected on first use
  let inspector: Session | undefined;
  const post = (method: string, params?: object): Promise<unknown> => {
    if (!inspector) {
      inspector = new Session();
      inspector.connect();
    }
    const session = inspector;
    return new Promise((res, rej) => session.post(method, params ?? {}, (err, out) => (err ? rej(err) : res(out))));
  };
  let buf = '';
  // answers go out in the order of the questions, whatever each takes
  let chain = Promise.resolve();
  process.stdin.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      chain = chain.then(async () => {
        if (line === 'prof-start' || line === 'prof-stop') {
          // A CPU profile of one phase only (SIDECAR_BENCH_PHASE_PROF=<file>), via the inspector.
          if (line === 'prof-start') {
            await post('Profiler.enable');
            await post('Profiler.setSamplingInterval', { interval: 100 });
            await post('Profiler.start');
          } else {
            const out = (await post('Profiler.stop')) as { profile: unknown };
            writeFileSync(process.env.SIDECAR_BENCH_PHASE_PROF as string, JSON.stringify(out.profile));
          }
          process.stdout.write('{}\n');
        } else if (line === 'heap-start' || line === 'heap-stop') {
          // What one phase allocates (SIDECAR_BENCH_PHASE_HEAP=<file>): sampled allocations,
          // collected ones included, so the profile shows what feeds the scavenges.
          if (line === 'heap-start') {
            // SIDECAR_BENCH_HEAP_PROMOTED=1: only what outlived the young generation (what the
            // scavenges copied to the old one, and the mark-compacts freed or kept)
            const promoted = Boolean(process.env.SIDECAR_BENCH_HEAP_PROMOTED);
            await post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !promoted });
          } else {
            const out = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
            writeFileSync(process.env.SIDECAR_BENCH_PHASE_HEAP as string, JSON.stringify(out.profile));
          }
          process.stdout.write('{}\n');
        } else if (line === 'wal-start' || line === 'wal-stop') {
          // WAL pages the store's commits write meanwhile, per b-tree (see WalAccount)
          if (line === 'wal-start') {
            wal = new WalAccount(storeFile() as string);
            wal.start();
            process.stdout.write('{}\n');
          } else {
            const writes = wal?.stop();
            wal?.close();
            wal = undefined;
            process.stdout.write(`${JSON.stringify({ wal: writes })}\n`);
          }
        } else if (line === 'snap') {
          // a heap snapshot now (SIDECAR_BENCH_SNAP=<file>): what keeps objects alive mid-phase
          writeHeapSnapshot(process.env.SIDECAR_BENCH_SNAP);
          process.stdout.write('{}\n');
        } else if (line === 'eld') {
          const ms = (ns: number) => Math.round(ns / 1e4) / 100;
          const sum = (x: { count: number; total: number; max: number }) => ({ count: x.count, total_ms: Math.round(x.total), max_ms: Math.round(x.max * 100) / 100 });
          const g = { ...sum(gc), minor: sum(gc.minor), major: sum(gc.major) };
          process.stdout.write(`${JSON.stringify({ eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), gc: g } })}\n`);
          eld.reset();
          gc = fresh();
        } else if (line === 'cpu') {
          const u = process.cpuUsage();
          process.stdout.write(`${JSON.stringify({ cpu_us: u.user + u.system, main_us: mainThreadCpuUs() })}\n`);
        } else if (line === 'lat') {
          const h = registry()?.getSingleMetric('sidecar_request_duration_seconds') as unknown as FastHistogram | undefined;
          const buckets: Record<string, Record<string, number>> = {};
          for (const v of h ? (await h.get()).values : []) {
            if (!v.metricName?.endsWith('_bucket')) continue;
            const route = String(v.labels.route);
            const le = String(v.labels.le);
            (buckets[route] ??= {})[le] = ((buckets[route] ?? {})[le] ?? 0) + v.value;
          }
          process.stdout.write(`${JSON.stringify({ lat: buckets })}\n`);
        }
      });
    }
  });
}

/**
 * CPU time of the main thread alone (µs, 10 ms resolution): the event loop is what queues
 * requests, while process.cpuUsage() also counts the worker threads (result files, store writes).
 * Linux only (/proc); NaN elsewhere.
 */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) in clock ticks of 10 ms; f[0] is field 3
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const state: { world?: SidecarWorld } = {};
  serveQueries(
    () => state.world?.ctx.metrics,
    () => state.world?.store.location,
  );
  const mode = process.argv[2] ?? 'sidecar';
  const agents = Number(process.argv[3] ?? 119);
  if (mode === 'floor') return serveFloor(agents, Number(process.argv[4] ?? 43_000));
  if (mode === 'baseline') {
    const app = Fastify({ logger: false });
    app.get('/health', async () => ({ status: 'healthy' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` })}\n`);
    return;
  }
  const types = Array.from({ length: agents }, (_, i) => `agent-${String(i).padStart(3, '0')}`);
  const catalog = catalogOf(types.map((t, i) => agentDef(t, { context: { include: INCLUDES[i % INCLUDES.length] as string[], max_bytes: 32 * 1024 } })));
  const w = await startSidecarWorld({ catalog });
  state.world = w;
  // a small mixed project: 300 files in 30 folders
  const exts = ['py', 'ts', 'go', 'md', 'tsx'];
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(w.projectRoot, `pkg${d}`), { recursive: true });
    for (let f = 0; f < 10; f++) {
      const ext = exts[(d + f) % exts.length] as string;
      writeFileSync(join(w.projectRoot, `pkg${d}`, `mod${f}.${ext}`), `// module ${d}/${f} handles payments refunds users sessions\n${'const x = 1;\n'.repeat(40 + f * 10)}`);
    }
  }
  const tokens = await Promise.all(types.map((t, i) => w.token(t, '*', { agentId: `${t}-${i}` })));
  process.stdout.write(`${JSON.stringify({ url: w.sidecarUrl, types, tokens })}\n`);
  const stop = async (): Promise<void> => {
    await w.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

/**
 * Fastify answering the loop's four routes (context, result, publish, wait) with canned answers
 * of the sidecar's sizes (`contextBytes` for a context), and doing nothing else: no validation,
 * no tokens, no store, no files. Under the same load as the sidecar it shows what HTTP, JSON
 * bodies and the 43 KB contexts cost on this machine: the floor of every figure of the loop.
 */
async function serveFloor(agents: number, contextBytes: number): Promise<void> {
  const app = Fastify({ logger: false });
  const context = Buffer.from(JSON.stringify({ issue_id: 'x', agent_type: 'y', text: 'x'.repeat(Math.max(0, contextBytes - 60)) }));
  let id = 0;
  const event = (data: unknown) => ({ id, cursor: id, event_type: 'step', topic: 'agent-000', publisher: 'agent-000-0', issue_id: null, data, timestamp: new Date().toISOString() });
  app.get('/api/context/:issueId/:agentType', async (_req, reply) => reply.type('application/json').send(context));
  app.post('/api/results', async (req, reply) => {
    const b = req.body as { issue_id: string; agent_type: string; agent_id: string };
    return reply.status(201).send({ status: 'stored', issue_id: b.issue_id, agent_type: b.agent_type, agent_id: b.agent_id, stored_at: Date.now(), file: `/tmp/results/${b.issue_id}/${b.agent_type}.json`, bytes: 300 });
  });
  app.post('/api/events/:eventType', async (req, reply) => {
    id++;
    return reply.status(201).send({ status: 'published', ...event((req.body as { data?: unknown }).data ?? null) });
  });
  app.get('/api/events/wait/:eventType', async () => ({ events: [event({ n: id })], cursor: id, timed_out: false, waited_ms: 0 }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const types = Array.from({ length: agents }, (_, i) => `agent-${String(i).padStart(3, '0')}`);
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, types, tokens: types.map(() => 'floor') })}\n`);
}

void main();
