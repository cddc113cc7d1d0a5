import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { StoreWriter, ThreadSqliteWriter } from '../../store/sql-writer.js';
import type { SqlWriter } from '../../store/sql-writer.js';
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
const sqlWriters: SqlWriter[] = [];
const { logger } = createLogger({ level: 'silent' });
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cco-writer-'));
  store = await openStore({ sqlitePath: join(dir, 'a.db') });
});
afterEach(async () => {
  for (const w of sqlWriters.splice(0)) await w.close();
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The store's own connection, or the writer thread a SQLite file gets in the daemon and `cco proxy`. */
function sqlWriter(kind: 'store' | 'thread'): SqlWriter {
  const w = kind === 'thread' ? new ThreadSqliteWriter(store.location, { store }) : new StoreWriter(store);
  sqlWriters.push(w);
  return w;
}

describe.each(['store', 'thread'] as const)('AnalyticsWriter (%s)', (kind) => {
  it('writes every row of batches of any size, values in the right columns', async () => {
    const w = new AnalyticsWriter(store, logger, { batchSize: 75, intervalMs: 10_000, sql: sqlWriter(kind) });
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
    const sql = sqlWriter(kind);
    const w = new AnalyticsWriter(store, logger, { intervalMs: 5, sql });
    w.add(rec(1));
    await w.close();
    await sql.close();
    await store.close();
    w.add(rec(2));
    await new Promise((r) => setTimeout(r, 30));
    expect(w.written).toBe(1);
    expect(w.dropped).toBe(1);
    expect(w.queued).toBe(0);
  });
});

describe('AnalyticsWriter while the database is away', () => {
  it('keeps the rows for the retry timer: a full batch does not send them again with every request', async () => {
    let calls = 0;
    let up = false;
    const inner = new StoreWriter(store);
    const flaky: SqlWriter = {
      kind: 'thread',
      run: (steps, opts) => {
        calls++;
        return up ? inner.run(steps, opts) : Promise.reject(new Error('store writer thread failed: unable to open database file'));
      },
      warm: () => undefined,
      close: () => inner.close(),
    };
    const w = new AnalyticsWriter(store, logger, { intervalMs: 10, sql: flaky });
    for (let i = 0; i < 64; i++) w.add(rec(i));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
    expect(w.queued).toBe(64);
    // 640 more requests before the retry (at least 1 s later): no write tried meanwhile
    for (let i = 64; i < 704; i++) w.add(rec(i));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
    expect(w.dropped).toBe(0);
    up = true;
    await expect.poll(() => w.written, { timeout: 3000 }).toBe(704);
    expect(w.queued).toBe(0);
    // back to writing each full batch at once
    for (let i = 704; i < 768; i++) w.add(rec(i));
    expect(w.queued).toBe(0);
    await w.close();
    expect(w.written).toBe(768);
  });
  it('does not write twice the rows of a transaction that committed before its answer was lost', async () => {
    const inner = new StoreWriter(store);
    let loseAnswer = true;
    const dying: SqlWriter = {
      kind: 'thread',
      // the thread dies after COMMIT, before answering: the rows are in the table, the writer saw an error
      run: async (steps, opts) => {
        const out = await inner.run(steps, opts);
        if (loseAnswer) {
          loseAnswer = false;
          throw new Error('store writer thread exited with code 1');
        }
        return out;
      },
      warm: () => undefined,
      close: () => inner.close(),
    };
    const w = new AnalyticsWriter(store, logger, { intervalMs: 10, sql: dying });
    for (let i = 0; i < 64; i++) w.add(rec(i));
    await expect.poll(() => w.lastError).toMatch(/exited/);
    for (let i = 64; i < 70; i++) w.add(rec(i));
    await expect.poll(() => w.written, { timeout: 3000 }).toBe(70);
    await w.close();
    const ids = (await store.db.selectFrom('gateway_requests').select('request_id').execute()).map((r) => r.request_id);
    expect(ids.length).toBe(70);
    expect(new Set(ids).size).toBe(70);
  });
});

describe('AnalyticsWriter on a writer thread', () => {
  it('posts each full batch at once, not after the answer to the one before: no row waits on this thread', async () => {
    const w = new AnalyticsWriter(store, logger, { intervalMs: 10_000, sql: sqlWriter('thread') });
    for (let i = 0; i < 640; i++) w.add(rec(i));
    // ten batches of 64 given in one go: all with the thread already (one at a time kept 576 here)
    expect(w.queued).toBe(0);
    await w.flush();
    expect(w.written).toBe(640);
    expect(Number((await store.db.selectFrom('gateway_requests').select((e) => e.fn.countAll().as('n')).executeTakeFirst())?.n)).toBe(640);
    await w.close();
  });

  it('keeps the rows of a batch whose thread died and writes them with the next flush (a new thread)', async () => {
    const sql = sqlWriter('thread') as ThreadSqliteWriter;
    const w = new AnalyticsWriter(store, logger, { intervalMs: 10_000, sql });
    w.add(rec(1));
    await w.flush(); // the thread runs
    sql.crashForTest();
    for (let i = 2; i <= 65; i++) w.add(rec(i));
    await w.flush();
    // the batch failed with the thread: kept, not dropped
    expect(w.dropped).toBe(0);
    expect(w.lastError).toMatch(/thread/);
    expect(w.queued).toBe(64);
    await w.flush();
    expect(w.queued).toBe(0);
    expect(w.written).toBe(65);
    expect((await store.db.selectFrom('gateway_requests').select('request_id').execute()).length).toBe(65);
    await w.close();
  });
});
