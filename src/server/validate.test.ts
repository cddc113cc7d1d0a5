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

describe('parseInput: number ranges', () => {
  const paged = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), hours: z.coerce.number().positive().max(720).optional(), at_least: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }).strict();
  const messageOf = (value: unknown, schema: z.ZodType = paged, where: 'query' | 'body' = 'query'): string => {
    try {
      parseInput(schema, value, where);
    } catch (e) {
      return (e as AppError).message;
    }
    throw new Error('no error');
  };

  it('states the route\'s range, not the safe-integer bound zod checks first', () => {
    expect(messageOf({ limit: '99999999999999999999' })).toBe('query.limit: an integer from 1 to 500');
    for (const limit of ['0', '501', '1.5', 'abc', '1e400']) expect(messageOf({ limit }), limit).toBe('query.limit: an integer from 1 to 500');
  });

  it('says open bounds and one-sided ranges in words', () => {
    expect(messageOf({ hours: '0' })).toBe('query.hours: a number above 0 and at most 720');
    expect(messageOf({ at_least: '-1' })).toBe('query.at_least: an integer at least 0');
  });

  it('finds the field inside nested objects of a body', () => {
    const body = z.object({ page: z.object({ size: z.number().int().min(1).max(100) }) });
    expect(messageOf({ page: { size: 1e20 } }, body, 'body')).toBe('body.page.size: an integer from 1 to 100');
  });

  it('an unknown key is still named', () => {
    expect(messageOf({ offset: '1' })).toMatch(/^query: .*"offset"/);
  });

  it('in a JSON body a string or null where a number belongs is a type error, not a range one', () => {
    const body = z.object({ priority: z.number().int().min(1).max(10) }).strict();
    expect(messageOf({ priority: '5' }, body, 'body')).toMatch(/^body\.priority: .*expected number, received string/);
    expect(messageOf({ priority: null }, body, 'body')).toMatch(/^body\.priority: .*expected number, received null/);
    // a number that is not a whole one, or out of range, is told the range
    expect(messageOf({ priority: 5.5 }, body, 'body')).toBe('body.priority: an integer from 1 to 10');
    expect(messageOf({ priority: 11 }, body, 'body')).toBe('body.priority: an integer from 1 to 10');
  });

  it('?token= is the security layer’s: a strict query schema does not refuse it', () => {
    expect(parseInput(paged, { limit: '5', token: 'the-access-token' }, 'query')).toEqual({ limit: 5 });
  });
});
