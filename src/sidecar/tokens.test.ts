import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentTokens, assertScope, bearerToken, inScope } from './tokens.js';

describe('agent tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-tok-'));
  const keyFile = join(dir, 'sidecar-jwt.key');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('mints HS256 JWTs with agent id, type, issue scope and expiry; the key is 0600', async () => {
    const t = new AgentTokens(keyFile, 600);
    const { token, claims } = await t.mint({ agentId: 'py-1', agentType: 'python-specialist', issues: ['issue-1'] });
    const [h, p] = token.split('.').slice(0, 2).map((x) => JSON.parse(Buffer.from(x as string, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(h).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(p).toMatchObject({ sub: 'py-1', agent_type: 'python-specialist', issues: ['issue-1'], iss: 'cco-daemon', aud: 'cco-sidecar' });
    expect((p?.exp as number) - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);
    expect(claims).toMatchObject({ agentId: 'py-1', agentType: 'python-specialist', issues: ['issue-1'] });
    expect(await t.verify(token)).toEqual(claims);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('a restarted daemon (same key file) accepts earlier tokens; another key does not', async () => {
    const a = new AgentTokens(keyFile);
    const { token } = await a.mint({ agentId: 'x', agentType: 'orchestrator', issues: '*' });
    const b = new AgentTokens(keyFile);
    expect((await b.verify(token)).issues).toBe('*');
    const other = new AgentTokens(join(dir, 'other.key'));
    await expect(other.verify(token)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    expect(readFileSync(keyFile, 'utf8')).not.toBe(readFileSync(join(dir, 'other.key'), 'utf8'));
  });

  it('rejects expired tokens, also once cached', async () => {
    const t = new AgentTokens(keyFile);
    const { token } = await t.mint({ agentId: 'short', agentType: 'x', issues: [], ttlSeconds: 1 });
    // known() answers only for tokens verified before, and only until they expire
    expect(t.known(token)).toBeUndefined();
    await t.verify(token);
    expect(t.known(token)).toMatchObject({ agentId: 'short' });
    await new Promise((r) => setTimeout(r, 1100));
    expect(t.known(token)).toBeUndefined();
    await expect(t.verify(token)).rejects.toMatchObject({ status: 401, code: 'token_expired' });
    await expect(new AgentTokens(keyFile).verify(token)).rejects.toMatchObject({ status: 401, code: 'token_expired' });
  });

  it('parses only Bearer JWT headers', () => {
    expect(() => bearerToken(undefined)).toThrow(expect.objectContaining({ status: 401, code: 'unauthorized' }));
    for (const bad of ['Basic abc', 'Bearer', 'Bearer a.b', 'Bearer a.b.c.d', 'Bearer a b.c', 'token a.b.c']) {
      expect(() => bearerToken(bad), bad).toThrow(expect.objectContaining({ status: 401, code: 'invalid_token' }));
    }
    expect(bearerToken('Bearer aa.bb.cc')).toBe('aa.bb.cc');
    expect(bearerToken('bearer  aa.bb.cc ')).toBe('aa.bb.cc');
  });

  it('checks issue scope', () => {
    const scoped = { agentId: 'a', agentType: 't', issues: ['i-1'], exp: 0 };
    expect(inScope(scoped, 'i-1')).toBe(true);
    expect(inScope(scoped, 'i-2')).toBe(false);
    expect(inScope({ ...scoped, issues: '*' }, 'anything')).toBe(true);
    expect(() => assertScope(scoped, 'i-2')).toThrow(expect.objectContaining({ status: 403, code: 'forbidden' }));
  });
});
