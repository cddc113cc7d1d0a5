import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../core/errors.js';
import { parseInput } from './validate.js';

const query = z.object({ limit: z.coerce.number().int().min(1).default(20), tags: z.array(z.string()).optional() }).strict();

function errorOf(value: unknown): AppError {
  try {
    parseInput(query, value, 'query');
  } catch (e) {
    return e as AppError;
  }
  throw new Error('no error');
}

describe('parseInput', () => {
  it('names the first offending field', () => {
    const e = errorOf({ limit: 'x' });
    expect(e).toMatchObject({ status: 400, code: 'invalid_request', field: 'query.limit' });
  });

  it('a query parameter given twice says so, not "received NaN"', () => {
    const e = errorOf({ limit: ['5', '9'] });
    expect(e.field).toBe('query.limit');
    expect(e.message).toBe('query.limit: given 2 times; give it once');
  });

  it('a parameter whose schema takes several values still takes them', () => {
    expect(parseInput(query, { limit: '3', tags: ['a', 'b'] }, 'query')).toEqual({ limit: 3, tags: ['a', 'b'] });
  });
});
