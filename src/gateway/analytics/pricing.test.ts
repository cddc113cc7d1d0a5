import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING_FILE, PricingTable } from './pricing.js';

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

  it("prices the shipped table's Opus generations apart: 4.5 and later at $5/$25, Opus 4 and 4.1 at $15/$75", () => {
    const shipped = PricingTable.load(DEFAULT_PRICING_FILE);
    const inputPerMillion = (model: string) => shipped.cost(model, { input: 1_000_000, output: 0, cacheRead: 0, cacheWrite: 0 }).input;
    for (const m of ['claude-opus-4-5', 'claude-opus-4-6', 'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-4-8-20261101', 'claude-opus-4.5']) expect(inputPerMillion(m), m).toBe(5);
    for (const m of ['claude-opus-4-20250514', 'claude-opus-4-1-20250805', 'claude-opus-4-1']) expect(inputPerMillion(m), m).toBe(15);
  });

  it("prices the guides' older models (gpt-4, gemini-pro, gemini-pro-vision) without taking the newer ones' rows", () => {
    const shipped = PricingTable.load(DEFAULT_PRICING_FILE);
    const perMillion = (model: string) => {
      const c = shipped.cost(model, { input: 1_000_000, output: 1_000_000, cacheRead: 0, cacheWrite: 0 });
      return [c.input, c.output, c.priced];
    };
    expect(perMillion('gpt-4')).toEqual([30, 60, true]);
    expect(perMillion('gpt-4-0613')).toEqual([30, 60, true]);
    expect(perMillion('gpt-4-32k')).toEqual([60, 120, true]);
    expect(perMillion('gemini-pro')).toEqual([0.5, 1.5, true]);
    expect(perMillion('gemini-pro-vision')).toEqual([0.5, 1.5, true]);
    expect(perMillion('gpt-4o')).toEqual([2.5, 10, true]);
    expect(perMillion('gemini-2.5-pro')).toEqual([1.25, 10, true]);
  });
});
