import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { openTestStore, testDialects } from '../../testing/test-store.js';
import type { TestStore } from '../../testing/test-store.js';
import { testRecord } from '../testing/record.js';
import { QueryProfiler } from './profiler.js';
import { AnalyticsQueries } from './queries.js';
import { AnalyticsWriter } from './writer.js';

// SQLite always; PostgreSQL too when DATABASE_URL is set (avg() is numeric there, a string in the row).
describe.each(testDialects())('AnalyticsQueries.breakdown on %s', (dialect) => {
  let ts: TestStore;
  const t0 = 1_700_000_000_000;
  beforeAll(async () => {
    ts = await openTestStore(dialect);
    const w = new AnalyticsWriter(ts.store, createLogger({ level: 'silent' }).logger, { intervalMs: 10_000 });
    const rec = (i: number, o: Parameters<typeof testRecord>[0]) => testRecord({ id: `r${i}`, ts: t0 + i, ...o });
    w.add(rec(1, { upstreamModel: 'claude-haiku-4-5', latencyMs: 100 }));
    w.add(rec(2, { upstreamModel: 'claude-haiku-4-5', latencyMs: 201 }));
    w.add(rec(3, { upstreamModel: 'claude-haiku-4-5', latencyMs: 50, status: 529, errorType: 'overloaded_error' }));
    // a client that went away is not an error (as in totals)
    w.add(rec(4, { upstreamModel: 'claude-haiku-4-5', latencyMs: 9, status: 499, errorType: 'client_closed' }));
    w.add(rec(5, { upstreamModel: 'gpt-4o-mini', latencyMs: 40 }));
    await w.close();
  });
  afterAll(async () => {
    await ts?.cleanup();
  });

  it('gives each row its error count and mean latency (the dashboard per-model table shows them)', async () => {
    const q = new AnalyticsQueries(ts.store, new QueryProfiler());
    const rows = await q.breakdown({ since: t0, until: t0 + 60_000 }, 'upstream_model');
    const by = new Map(rows.map((r) => [r.key, r]));
    expect(by.get('claude-haiku-4-5')).toMatchObject({ requests: 4, errors: 1, avgLatencyMs: 90 });
    expect(by.get('gpt-4o-mini')).toMatchObject({ requests: 1, errors: 0, avgLatencyMs: 40 });
  });
});
