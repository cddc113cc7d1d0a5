import { describe, expect, it } from 'vitest';
import { plainlyValid, SCHEMAS } from './validate-body.js';
import type { Endpoint } from './inbound.js';

/** The fast check must never accept what zod refuses (zod names the field of what it refuses). */
describe('validateBody fast path', () => {
  const base = { model: 'claude-x', max_tokens: 5, messages: [] as unknown[] };
  const variants: Record<string, unknown>[] = [
    base,
    { ...base, model: '' },
    { ...base, model: 'm'.repeat(257) },
    { ...base, model: 42 },
    { ...base, max_tokens: 0 },
    { ...base, max_tokens: 1.5 },
    { ...base, max_tokens: null },
    { ...base, max_tokens: undefined },
    { ...base, max_tokens: Infinity },
    { ...base, messages: {} },
    { ...base, stream: 'yes' },
    { ...base, stream: true },
    { ...base, temperature: Infinity },
    { ...base, temperature: '0.5' },
    { ...base, temperature: null },
    { ...base, top_p: 0.9 },
    { ...base, tools: {} },
    { ...base, tools: [] },
    { ...base, system: 5 },
    { ...base, system: [{ type: 'text', text: 's' }] },
    { ...base, stop_sequences: ['a', 2] },
    { ...base, stop_sequences: ['a'] },
    { ...base, max_completion_tokens: null },
    { ...base, max_completion_tokens: 0 },
    { model: 'gpt-4o', messages: [] },
    { model: 'gpt-4o', messages: [], max_tokens: null },
    { messages: [] },
    { ...base, unknown_field: { anything: true } },
  ];
  for (const endpoint of ['messages', 'count_tokens', 'chat_completions'] as Endpoint[]) {
    it(`agrees with the zod schema on ${endpoint}`, () => {
      for (const v of variants) {
        const zod = SCHEMAS[endpoint].safeParse(v).success;
        // Accepting is the fast path's job; when it declines, zod decides (and names the field).
        expect([endpoint, v, plainlyValid(endpoint, v) && !zod]).toEqual([endpoint, v, false]);
        if (zod && endpoint !== 'count_tokens') expect([endpoint, v, plainlyValid(endpoint, v)]).toEqual([endpoint, v, true]);
      }
    });
  }
});
