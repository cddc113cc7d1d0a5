import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { FastHistogram } from './fast-histogram.js';

/**
 * A registry whose exposition (`/metrics`) is rendered elsewhere: under `cco proxy --workers N`,
 * every worker's metrics merged by the primary. Its own metrics stay readable (getMetricsAsJSON).
 */
class RelayedRegistry extends Registry {
  constructor(private readonly render: () => Promise<string>) {
    super();
  }

  override metrics(): Promise<string> {
    return this.render();
  }
}

/**
 * One Prometheus registry per daemon (not the global one), so several daemons can live in one
 * test process. Modules register their own metrics on it with `registers: [registry]`.
 * `exposition`: what `/metrics` answers instead of this registry's own text (see RelayedRegistry).
 */
export function createMetricsRegistry(o: { exposition?: () => Promise<string> } = {}): Registry {
  const registry = o.exposition ? new RelayedRegistry(o.exposition) : new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** One metric as plain data (what crosses the IPC channel between cluster processes). */
export interface MetricData {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[];
}

/**
 * This process's metrics for merging with other workers' (mergeWorkerMetrics): gauges are given
 * a `pid` label, so each worker's stays its own series (a cache's entries, a breaker's state, a
 * heap size); counters and histograms are left to be summed.
 */
export async function workerMetrics(registry: Registry, pid = process.pid): Promise<MetricData[]> {
  const own = String(pid);
  return (await registry.getMetricsAsJSON()).map((m) => {
    // prom-client's MetricType is a declared enum of these strings (not importable at run time)
    const type = String(m.type);
    const gauge = type === 'gauge';
    return {
      name: m.name,
      help: m.help,
      type,
      // per worker, a gauge is one series each: summing leaves it as it is ('omit' and 'first' would drop or pick one)
      aggregator: gauge ? 'sum' : m.aggregator,
      values: m.values.map((v) => ({ ...v, labels: gauge ? { ...v.labels, pid: own } : { ...v.labels } })),
    };
  });
}

/** The exposition of several workers' metrics (workerMetrics of each): counters and histograms summed, gauges per worker. */
export async function mergeWorkerMetrics(perWorker: MetricData[][]): Promise<string> {
  return AggregatorRegistry.aggregate(perWorker).metrics();
}

/**
 * The merged `/metrics` of `--workers N` across workers coming and going. Counters and histograms
 * only grow to Prometheus: a sum over the workers serving that dropped when one exited (replaced
 * after a crash, or closing gracefully) would read as a counter reset, and its requests would
 * vanish from `rate()`. So each worker's counters as of its last scrape stay in the sum: while it
 * closes (no longer asked), and once it has exited, folded into one retired part. Gauges are
 * each worker's own (a `pid` label) and leave with it.
 */
export class WorkerMetricsHistory {
  /** Each worker's counters and histograms, as of the last scrape that reached it. */
  private readonly last = new Map<number, MetricData[]>();
  /** The counters and histograms of the workers that exited, summed. */
  private retired: MetricData[] = [];

  /** The exposition over the parts just gathered (by worker id) and what earlier scrapes saw of the others. */
  async merge(parts: Map<number, MetricData[]>): Promise<string> {
    for (const [id, part] of parts) this.last.set(id, part.filter((m) => m.type !== 'gauge'));
    const absent = [...this.last].filter(([id]) => !parts.has(id)).map(([, part]) => part);
    return mergeWorkerMetrics([...parts.values(), ...absent, this.retired]);
  }

  /** Exits folded one at a time: two at once had each started from the same sum, and one was lost. */
  private folding: Promise<void> = Promise.resolve();

  /** A worker exited: its last counters join the retired sum. */
  exited(id: number): Promise<void> {
    this.folding = this.folding.then(async () => {
      const part = this.last.get(id);
      if (!part) return;
      this.retired = (await AggregatorRegistry.aggregate([this.retired, part]).getMetricsAsJSON()) as unknown as MetricData[];
      this.last.delete(id);
    }).catch(() => undefined);
    return this.folding;
  }
}

export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new FastHistogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    // `status_code`, as the guides' alert rules and the usual Node exporters name it
    labelNames: ['method', 'route', 'status_code'],
    // 2 s: the guides' alert threshold for slow requests
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // Derived from the histogram when scraped, so the hot path (and the gateway's lean /v1 handler,
  // which observes the same histogram) pays nothing for it. The label is `status_code`, as alert
  // rules written for the usual Node exporters expect (`http_requests_total{status_code=~"5.."}`).
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const v of (await duration.get()).values) {
        if (v.metricName !== 'http_request_duration_seconds_count') continue;
        const { method, route, status_code } = v.labels;
        this.inc({ method: String(method), route: String(route), status_code: String(status_code) }, v.value);
      }
    },
  });
  new Gauge({
    name: 'websocket_connections_active',
    help: 'Open WebSocket connections (dashboard /ws, terminal)',
    registers: [registry],
    collect() {
      const wss = (app as { websocketServer?: { clients: Set<unknown> } }).websocketServer;
      this.set(wss?.clients.size ?? 0);
    },
  });
  app.addHook('onResponse', async (req, reply) => {
    duration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(body);
  });
}
