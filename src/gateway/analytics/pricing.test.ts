import { describe, expect, it } from 'vitest';
import { PricingTable } from './pricing.js';

describe('PricingTable', () => {
  const table = new PricingTable({
    models: [
      { pattern: '^claude-sonnet', input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
      { pattern: '^claude-custom', input: 3, output: 15, cache_write: 3.75, cache_write_1h: 7, cache_read: 0.3 },
    ],
  });

  it('prices the four buckets per million tokens; 1-hour cache writes at their own rate (default twice the input price)', () => {
    const u = { input: 1_000_000, output: 100_000, cacheRead: 2_000_000, cacheWrite: 1_000_000, cacheWrite1h: 400_000 };
    const c = table.cost('claude-sonnet-4-5', u);
    expect(c.input).toBeCloseTo(3);
    expect(c.output).toBeCloseTo(1.5);
    expect(c.cacheRead).toBeCloseTo(0.6);
    // 600,000 five-minute writes at $3.75 and 400,000 one-hour writes at $6 (2 × $3)
    expect(c.cacheWrite).toBeCloseTo(2.25 + 2.4);
    expect(c.total).toBeCloseTo(3 + 1.5 + 0.6 + 4.65);
    expect(table.cost('claude-custom-1', u).cacheWrite).toBeCloseTo(2.25 + 2.8);
    // without the split every write is a 5-minute one
    expect(table.cost('claude-sonnet-4-5', { ...u, cacheWrite1h: undefined }).cacheWrite).toBeCloseTo(3.75);
    expect(table.cost('gpt-unknown', u)).toMatchObject({ total: 0, priced: false });
  });
});
