import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WorkerMetricsHistory, workerMetrics } from './metrics.js';
import type { MetricData } from './metrics.js';

/** A worker's registry: a counter, a histogram and a gauge, as `cco proxy --workers` workers have. */
function worker(requests: number, latencies: number[]) {
  const registry = new Registry();
  new Counter({ name: 'reqs_total', help: 'h', labelNames: ['status'], registers: [registry] }).inc({ status: '200' }, requests);
  const h = new Histogram({ name: 'lat_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
  for (const l of latencies) h.observe(l);
  new Gauge({ name: 'entries', help: 'h', registers: [registry] }).set(requests);
  return registry;
}

const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

describe('WorkerMetricsHistory: the merged /metrics of --workers N', () => {
  it('keeps a worker\'s counters and histograms in the sums after it leaves and exits; its gauges go with it', async () => {
    const history = new WorkerMetricsHistory();
    const a = worker(5, [0.05, 0.5]);
    const b = worker(3, [2]);
    const parts = async (...ws: [number, Registry][]) => new Map<number, MetricData[]>(await Promise.all(ws.map(async ([id, r]) => [id, await workerMetrics(r, 100 + id)] as [number, MetricData[]])));

    let text = await history.merge(await parts([1, a], [2, b]));
    expect(line(text, 'reqs_total{status="200"}')).toBe('reqs_total{status="200"} 8');
    expect(line(text, 'lat_seconds_count')).toBe('lat_seconds_count 3');
    expect(text).toContain('entries{pid="102"} 3');

    // worker 2 closes (no longer asked): its counters stay in, its gauge is gone
    text = await history.merge(await parts([1, a]));
    expect(line(text, 'reqs_total{status="200"}')).toBe('reqs_total{status="200"} 8');
    expect(text).not.toContain('pid="102"');

    // it exits, and its replacement (worker 3) serves: the sums never go down
    await history.exited(2);
    const c = worker(1, [0.2]);
    text = await history.merge(await parts([1, a], [3, c]));
    expect(line(text, 'reqs_total{status="200"}')).toBe('reqs_total{status="200"} 9');
    expect(line(text, 'lat_seconds_count')).toBe('lat_seconds_count 4');
    expect(line(text, 'lat_seconds_bucket{le="0.1"}')).toBe('lat_seconds_bucket{le="0.1"} 1');
    expect(line(text, 'lat_seconds_bucket{le="+Inf"}')).toBe('lat_seconds_bucket{le="+Inf"} 4');

    // a second exit folds into the same retired sum
    await history.exited(1);
    await history.exited(1); // told twice: counted once
    text = await history.merge(await parts([3, c]));
    expect(line(text, 'reqs_total{status="200"}')).toBe('reqs_total{status="200"} 9');
    expect(line(text, 'lat_seconds_sum')).toBe(`lat_seconds_sum ${0.05 + 0.5 + 2 + 0.2}`);
  });

  it('two workers exiting at once both stay in the sums', async () => {
    const history = new WorkerMetricsHistory();
    const parts = new Map<number, MetricData[]>([
      [1, await workerMetrics(worker(5, []), 101)],
      [2, await workerMetrics(worker(5, []), 102)],
      [3, await workerMetrics(worker(1, []), 103)],
    ]);
    await history.merge(parts);
    // was: both folds started from the same sum, and the last one's write lost the other's 5
    await Promise.all([history.exited(1), history.exited(2)]);
    const text = await history.merge(new Map([[3, parts.get(3) as MetricData[]]]));
    expect(line(text, 'reqs_total{status="200"}')).toBe('reqs_total{status="200"} 11');
  });
});

