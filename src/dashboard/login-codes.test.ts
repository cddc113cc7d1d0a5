import { describe, expect, it } from 'vitest';
import { LOGIN_CODE_TTL_MS, LoginCodes } from './login-codes.js';

describe('LoginCodes', () => {
  it('redeems a code once, within its time, and keeps at most 100', () => {
    let now = 1_000;
    const codes = new LoginCodes(() => now);
    const a = codes.issue().code;
    expect(codes.redeem(a)).toBe(true);
    expect(codes.redeem(a)).toBe(false);
    const late = codes.issue().code;
    now += LOGIN_CODE_TTL_MS + 1;
    expect(codes.redeem(late)).toBe(false);
    expect(codes.redeem('never-issued')).toBe(false);
    const first = codes.issue().code;
    for (let i = 0; i < 100; i++) codes.issue();
    expect(codes.redeem(first)).toBe(false);
  });
});
