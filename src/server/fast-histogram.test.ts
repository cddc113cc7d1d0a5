import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from './fast-histogram.js';

describe('FastHistogram', () => {
  it('exports what prom-client’s own histogram exports for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const opts = { help: 'h', labelNames: ['route', 'status'] as const, buckets: [0.001, 0.01, 0.1] };
    const fast = new FastHistogram({ name: 'd_seconds', ...opts, registers: [ours] });
    const ref = new Histogram({ name: 'd_seconds', ...opts, labelNames: ['route', 'status'], registers: [theirs] });
    const obs: [string, string, number][] = [['/a', '200', 0.0005], ['/a', '200', 0.001], ['/a', '200', 0.05], ['/b', '404', 3], ['/a', '200', 0.2]];
    const bound = fast.labels({ route: '/a', status: '200' });
    for (const [route, status, v] of obs) {
      if (route === '/a') bound.observe(v);
      else fast.observe({ route, status }, v);
      ref.observe({ route, status }, v);
    }
    const lines = (s: string) => s.split('\n').filter(Boolean).sort();
    expect(lines(await ours.metrics())).toEqual(lines(await theirs.metrics()));
    expect(await ours.metrics()).toContain('d_seconds_bucket{le="0.001",route="/a",status="200"} 2');
    expect(await ours.metrics()).toContain('d_seconds_count{route="/b",status="404"} 1');
    const json = (await ours.getMetricsAsJSON())[0];
    expect(json?.values).toHaveLength(2 * (3 + 3));
  });

  it('is found by name in its registry, ignores values that are not finite, and resets', async () => {
    const r = new Registry();
    const h = new FastHistogram({ name: 'x_seconds', help: 'x', labelNames: ['k'], buckets: [1], registers: [r] });
    expect(r.getSingleMetric('x_seconds')).toBe(h);
    h.observe({ k: 'a' }, Number.NaN);
    h.observe({ k: 'a' }, 0.5);
    expect(await r.metrics()).toContain('x_seconds_count{k="a"} 1');
    r.resetMetrics();
    expect(await r.metrics()).toContain('x_seconds_count{k="a"} 0');
  });
});
