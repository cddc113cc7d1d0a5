import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { openStore } from '../../store/store.js';
import type { Store } from '../../store/store.js';
import { emptyUsage } from '../proxy/usage.js';
import { zeroCost } from './pricing.js';
import type { RequestRecord } from './record.js';
import { testRecord } from '../testing/record.js';
import { AnalyticsWriter } from './writer.js';

const rec = (i: number): RequestRecord =>
  testRecord({
    id: `r${i}`,
    ts: 1_700_000_000_000 + i,
    route: '^claude-',
    model: 'claude-x',
    upstreamModel: 'claude-x',
    stream: i % 2 === 0,
    usage: { ...emptyUsage(), input: i, output: 2 * i },
    cost: { ...zeroCost(), total: i / 1000 },
    latencyMs: 12.4,
    ttftMs: i % 3 === 0 ? null : 3.6,
    sessionId: `s${i % 4}`,
    client: 'test',
    cacheKey: `k${i}`,
  });

let dir: string;
let store: Store;
const { logger } = createLogger({ level: 'silent' });
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cco-writer-'));
  store = await openStore({ sqlitePath: join(dir, 'a.db') });
});
afterEach(async () => {
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('AnalyticsWriter', () => {
  it('writes every row of batches of any size, values in the right columns', async () => {
    const w = new AnalyticsWriter(store, logger, { batchSize: 75, intervalMs: 10_000 });
    for (let i = 0; i < 233; i++) w.add(rec(i));
    await w.flush();
    expect(w.written).toBe(233);
    const rows = await store.db.selectFrom('gateway_requests').selectAll().orderBy('ts').execute();
    expect(rows).toHaveLength(233);
    expect(rows[7]).toMatchObject({ request_id: 'r7', ts: 1_700_000_000_007, stream: 0, input_tokens: 7, output_tokens: 14, cost_total: 0.007, latency_ms: 12, ttft_ms: 4, session_id: 's3', cache_key: 'k7', error_type: null });
    expect(rows[9]?.ttft_ms).toBeNull();
    await w.close();
  });

  it('after close, late rows are counted as dropped and nothing keeps retrying', async () => {
    const w = new AnalyticsWriter(store, logger, { intervalMs: 5 });
    w.add(rec(1));
    await w.close();
    await store.close();
    w.add(rec(2));
    await new Promise((r) => setTimeout(r, 30));
    expect(w.written).toBe(1);
    expect(w.dropped).toBe(1);
    expect(w.queued).toBe(0);
  });
});
