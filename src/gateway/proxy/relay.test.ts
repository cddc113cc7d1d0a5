import { describe, expect, it } from 'vitest';
import { withoutSecrets } from './relay.js';

describe('withoutSecrets (error answers relayed to the client)', () => {
  it('masks the configured keys, whatever their shape, and credential-shaped strings', () => {
    const body = Buffer.from('{"error":{"message":"Incorrect API key provided: teamkey-0123456789abc. Also sk-proj-abcdefghijklmnop1234."}}');
    const out = withoutSecrets(body, ['teamkey-0123456789abc', 'short']).toString();
    expect(out).toBe('{"error":{"message":"Incorrect API key provided: [REDACTED]. Also [REDACTED]."}}');
  });
  it('returns the same bytes when there is nothing to mask', () => {
    const body = Buffer.from('{"error":{"message":"overloaded"}}');
    expect(withoutSecrets(body, ['teamkey-0123456789abc'])).toBe(body);
  });
});
