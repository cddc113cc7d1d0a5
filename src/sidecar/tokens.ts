import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '../core/errors.js';
import { loadOrCreateSecret } from '../daemon/secret-files.js';

/** What an agent token says about its bearer. */
export interface AgentClaims {
  agentId: string;
  agentType: string;
  /** Issue ids the agent may touch, or `*` for all (the orchestrator, Claude Code itself). */
  issues: string[] | '*';
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface MintRequest {
  agentId: string;
  agentType: string;
  issues: string[] | '*';
  ttlSeconds?: number;
}

const ISSUER = 'cco-daemon';
const AUDIENCE = 'cco-sidecar';

/**
 * Agent JWTs (HS256). The key is 32 random bytes in a 0600 file under CCO_HOME, so tokens
 * survive daemon restarts. Verified tokens are remembered until they expire: HMAC verification
 * is cheap, but jose's async path is not free at thousands of requests per second.
 */
export class AgentTokens {
  private readonly key: Uint8Array;
  private readonly verified = new Map<string, AgentClaims>();

  constructor(keyFile: string, readonly defaultTtlSeconds = 4 * 3600) {
    this.key = Buffer.from(loadOrCreateSecret(keyFile, 32, 'hex'), 'hex');
  }

  async mint(req: MintRequest): Promise<{ token: string; claims: AgentClaims }> {
    const ttl = req.ttlSeconds ?? this.defaultTtlSeconds;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttl;
    const token = await new SignJWT({ agent_type: req.agentType, issues: req.issues })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(req.agentId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, claims: { agentId: req.agentId, agentType: req.agentType, issues: req.issues, exp } };
  }

  /** The claims of a token verified before and not expired yet (no await on the hot path). */
  known(token: string): AgentClaims | undefined {
    const hit = this.verified.get(token);
    return hit && hit.exp > Date.now() / 1000 ? hit : undefined;
  }

  /** The claims of a valid token; a 401 AppError saying why otherwise. */
  async verify(token: string): Promise<AgentClaims> {
    const now = Date.now() / 1000;
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp > now) return hit;
      this.verified.delete(token);
      throw new AppError(401, 'token_expired', 'The agent token has expired; ask the daemon for a new one (POST /api/agents/spawn)');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw new AppError(401, 'token_expired', 'The agent token has expired; ask the daemon for a new one (POST /api/agents/spawn)');
      }
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new AppError(401, 'invalid_token', 'The agent token signature is invalid');
      throw new AppError(401, 'invalid_token', 'The agent token is malformed or not issued by this daemon');
    }
    const issues = payload.issues;
    const agentType = payload.agent_type;
    if (typeof payload.sub !== 'string' || typeof agentType !== 'string' || typeof payload.exp !== 'number' || !(issues === '*' || (Array.isArray(issues) && issues.every((i) => typeof i === 'string')))) {
      throw new AppError(401, 'invalid_token', 'The agent token lacks agent id, agent type, issue scope or expiry');
    }
    const claims: AgentClaims = { agentId: payload.sub, agentType, issues: issues as string[] | '*', exp: payload.exp };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(token, claims);
    return claims;
  }
}

/** Whether a token's scope covers an issue. */
export function inScope(claims: AgentClaims, issueId: string): boolean {
  return claims.issues === '*' || claims.issues.includes(issueId);
}

/** Throws 403 unless the token's scope covers the issue. */
export function assertScope(claims: AgentClaims, issueId: string): void {
  if (!inScope(claims, issueId)) {
    throw new AppError(403, 'forbidden', `This agent token is not allowed to access issue ${issueId}`, { details: { allowed_issues: claims.issues } });
  }
}

/** The bearer token of an Authorization header, or a 401. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new AppError(401, 'unauthorized', 'Missing Authorization: Bearer <agent token> header');
  const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i.exec(header);
  if (!m?.[1]) throw new AppError(401, 'invalid_token', 'The Authorization header is not a Bearer JWT');
  return m[1];
}
