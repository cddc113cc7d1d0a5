import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactString } from './redact.js';

describe('redact', () => {
  it('masks provider keys, bearer tokens and JWTs inside text', () => {
    const s = redactString(
      'key sk-ant-api03-abcdefghijklmnop and Bearer abcdefghijklmnopqrstuv and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz',
    );
    expect(s).not.toContain('abcdefghijklmnop');
    expect(s).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(s).toContain('Bearer [REDACTED]');
  });

  it('masks the password of a database URL but keeps the host', () => {
    const s = redactString('postgres://app:hunter2secret@db.internal:5432/x');
    expect(s).toBe(`postgres://app:${REDACTED}@db.internal:5432/x`);
  });

  it('replaces secret-named keys deeply and leaves the rest', () => {
    const out = redact({ a: 1, nested: { apiKey: 'xyz', headers: { authorization: 'Basic q' } }, list: [{ token: 't' }] });
    expect(out).toEqual({ a: 1, nested: { apiKey: REDACTED, headers: { authorization: REDACTED } }, list: [{ token: REDACTED }] });
  });
});
