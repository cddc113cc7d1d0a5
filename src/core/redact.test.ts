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

  it('shows settings named after secrets that hold none (counts, lifetimes, where a secret lives)', () => {
    const shown = { token_ttl_seconds: 14400, max_tokens: 8192, input_tokens: 12, cache_read_input_tokens: 3, tokenFile: '/home/u/.cco/token', api_key_env: 'ANTHROPIC_API_KEY', token_expires_at: 5 };
    expect(redact(shown)).toEqual(shown);
    const hidden = { accessToken: 'abc', api_key: 'k', password: 'p', client_secret: 's', refresh_token: 'r', 'x-api-key': 'x', cookie: 'c' };
    expect(Object.values(redact(hidden))).toEqual(Object.keys(hidden).map(() => REDACTED));
  });
});
