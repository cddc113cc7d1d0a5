import { randomUUID } from 'node:crypto';
import { decodeJwt, errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../core/errors.js';

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

/** What a verified user token says. */
export interface UserClaims {
  userId: string;
  email: string;
  role: Role;
  /** The user's token_version when it was issued. */
  ver: number;
  /** Expiry, epoch seconds. */
  exp: number;
  /** The login session the token belongs to (tokens issued before sessions existed have none). */
  sid?: string;
}

/** What a verified refresh token says. */
export interface RefreshClaims {
  userId: string;
  ver: number;
  jti: string;
  sid?: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface UserTokenOptions {
  accessSecret: string;
  refreshSecret: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const ISSUER = 'cco';
const ACCESS = 'cco-user';
const REFRESH = 'cco-refresh';

/**
 * People's tokens (HS256, jose): a short-lived access token signed with `JWT_SECRET` and a
 * refresh token signed with `JWT_REFRESH_SECRET`, each with its own audience so one can never
 * stand in for the other. Agent tokens (the sidecar's) use a key of their own.
 */
export class UserTokens {
  private readonly access: Uint8Array;
  private readonly refresh: Uint8Array;

  constructor(private readonly o: UserTokenOptions) {
    this.access = new TextEncoder().encode(o.accessSecret);
    this.refresh = new TextEncoder().encode(o.refreshSecret);
  }

  /** The lifetime of a refresh token issued now, as an epoch-ms expiry (what a session row keeps). */
  refreshExpiresAt(): number {
    return Date.now() + this.o.refreshTtlSeconds * 1000;
  }

  /** An access and a refresh token; `session` ties both to a login session (its id and the refresh token's jti). */
  async issue(u: { id: string; email: string; role: Role; tokenVersion?: number }, session?: { sid: string; jti: string }): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
    const ver = u.tokenVersion ?? 0;
    const sid = session ? { sid: session.sid } : {};
    const accessToken = await new SignJWT({ email: u.email, role: u.role, ver, ...sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(u.id)
      .setIssuer(ISSUER)
      .setAudience(ACCESS)
      .setIssuedAt()
      .setExpirationTime(`${this.o.accessTtlSeconds}s`)
      .sign(this.access);
    const refreshToken = await new SignJWT({ ver, ...sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(u.id)
      .setJti(session?.jti ?? randomUUID())
      .setIssuer(ISSUER)
      .setAudience(REFRESH)
      .setIssuedAt()
      .setExpirationTime(`${this.o.refreshTtlSeconds}s`)
      .sign(this.refresh);
    return { accessToken, refreshToken, expiresIn: this.o.accessTtlSeconds };
  }

  /** An access token's claims; 401 `token_expired` ("Token expired") or `invalid_token` ("Invalid token"). */
  async verifyAccess(token: string): Promise<UserClaims> {
    const payload = await verify(token, this.access, ACCESS);
    const role = payload.role;
    if (typeof payload.sub !== 'string' || typeof payload.email !== 'string' || (role !== 'admin' && role !== 'user') || typeof payload.exp !== 'number') {
      throw new AppError(401, 'invalid_token', 'Invalid token');
    }
    return { userId: payload.sub, email: payload.email, role, ver: typeof payload.ver === 'number' ? payload.ver : 0, exp: payload.exp, ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}) };
  }

  /** For the front door: a JWT that says it is a user token is verified (401 if it fails); others (agents') are not ours. */
  async resolve(token: string): Promise<UserClaims | undefined> {
    let aud: unknown;
    try {
      aud = decodeJwt(token).aud;
    } catch {
      return undefined;
    }
    return aud === ACCESS ? this.verifyAccess(token) : undefined;
  }

  /** A refresh token's claims; 401 "Invalid refresh token" otherwise (expired included). */
  async verifyRefresh(token: string): Promise<RefreshClaims> {
    try {
      const payload = await verify(token, this.refresh, REFRESH);
      if (typeof payload.sub === 'string' && typeof payload.jti === 'string' && typeof payload.exp === 'number') {
        return { userId: payload.sub, ver: typeof payload.ver === 'number' ? payload.ver : 0, jti: payload.jti, exp: payload.exp, ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}) };
      }
    } catch {
      // one answer for every reason, as the guide's handler gives
    }
    throw new AppError(401, 'invalid_refresh_token', 'Invalid refresh token');
  }
}

async function verify(token: string, key: Uint8Array, audience: string) {
  try {
    return (await jwtVerify(token, key, { issuer: ISSUER, audience, algorithms: ['HS256'] })).payload;
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new AppError(401, 'token_expired', 'Token expired');
    throw new AppError(401, 'invalid_token', 'Invalid token');
  }
}
