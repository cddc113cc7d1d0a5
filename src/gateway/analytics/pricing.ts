import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseJsonConfig } from '../../config/json-file.js';
import { ConfigError } from '../../config/config-error.js';
import type { Usage } from '../proxy/usage.js';
import { packageFile } from '../util/package-file.js';

/** The pricing table shipped with CCO (`config/pricing.json`). */
export const DEFAULT_PRICING_FILE = packageFile('config/pricing.json');

const priceSchema = z
  .object({
    pattern: z.string().min(1),
    input: z.number().min(0),
    output: z.number().min(0),
    cache_write: z.number().min(0).default(0),
    /** Writes to Anthropic's 1-hour cache; default twice the input price (Anthropic's rate). */
    cache_write_1h: z.number().min(0).optional(),
    cache_read: z.number().min(0).default(0),
  })
  .strict();

const pricingSchema = z
  .object({ description: z.string().optional(), unit: z.literal('usd_per_million_tokens').default('usd_per_million_tokens'), models: z.array(priceSchema).max(1000) })
  .strict();

/** Cost of one request in USD, in the four buckets. */
export interface Cost {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
  total: number;
  /** False when no price is known for the model (cost counted as 0). */
  priced: boolean;
}

export const zeroCost = (): Cost => ({ input: 0, output: 0, cacheWrite: 0, cacheRead: 0, total: 0, priced: false });

/** Prices per million tokens, first matching pattern wins. */
export class PricingTable {
  private readonly rows: { re: RegExp; p: z.infer<typeof priceSchema> }[];

  constructor(raw: unknown, file = '(pricing)') {
    const r = pricingSchema.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new ConfigError(`Invalid pricing table ${file}: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`, file);
    }
    this.rows = r.data.models.map((p) => ({ re: new RegExp(p.pattern), p }));
  }

  static load(file: string = DEFAULT_PRICING_FILE): PricingTable {
    if (!existsSync(file)) return new PricingTable({ models: [] }, file);
    return new PricingTable(parseJsonConfig(readFileSync(file, 'utf8'), file), file);
  }

  /** The price row of each model seen (null: no pattern matches), so patterns run once per model. */
  private readonly byModel = new Map<string, { re: RegExp; p: z.infer<typeof priceSchema> } | null>();

  cost(model: string, u: Usage): Cost {
    let row = this.byModel.get(model);
    if (row === undefined) {
      row = this.rows.find((r) => r.re.test(model)) ?? null;
      if (this.byModel.size >= 1000) this.byModel.clear();
      this.byModel.set(model, row);
    }
    if (!row) return zeroCost();
    const m = 1_000_000;
    const input = (u.input * row.p.input) / m;
    const output = (u.output * row.p.output) / m;
    const oneHour = Math.min(u.cacheWrite1h ?? 0, u.cacheWrite);
    const cacheWrite = ((u.cacheWrite - oneHour) * row.p.cache_write + oneHour * (row.p.cache_write_1h ?? 2 * row.p.input)) / m;
    const cacheRead = (u.cacheRead * row.p.cache_read) / m;
    return { input, output, cacheWrite, cacheRead, total: input + output + cacheWrite + cacheRead, priced: true };
  }
}
