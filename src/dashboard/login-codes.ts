import { randomBytes } from 'node:crypto';

/** How long a sign-in link of `cco dashboard` can be used (once). */
export const LOGIN_CODE_TTL_MS = 5 * 60_000;
/** Codes kept at most (the oldest go first): a loop minting them cannot grow the daemon's memory. */
const MAX_CODES = 100;

/**
 * One-time sign-in codes for the dashboard. `cco dashboard` used to open `/?token=<token>`: the
 * browser keeps that address in its history (and `xdg-open` shows it in `ps`), and the token is
 * the daemon's lasting credential. A code is good once, for a few minutes, and is all the link
 * carries; the cookie it is exchanged for is the token's.
 */
export class LoginCodes {
  private readonly codes = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(): { code: string; expiresInS: number } {
    const code = randomBytes(18).toString('base64url');
    this.codes.set(code, this.now() + LOGIN_CODE_TTL_MS);
    while (this.codes.size > MAX_CODES) this.codes.delete(this.codes.keys().next().value as string);
    return { code, expiresInS: LOGIN_CODE_TTL_MS / 1000 };
  }

  /** True once for a code issued here and not yet expired; it is spent either way. */
  redeem(code: string): boolean {
    const until = this.codes.get(code);
    this.codes.delete(code);
    return until !== undefined && until > this.now();
  }
}
