import { describe, expect, it } from 'vitest';
import { mcpSection } from '../config/sections/mcp.js';
import { KeyTable, requestedTenant, unauthorizedBody } from './auth.js';

const cfg = mcpSection.parse({
  keys: [
    { tenant: 'team-a', key: 'team-a-key-0123456789', admin: true },
    { tenant: 'ci', key_env: 'CI_MCP_KEY', issues: ['issue-1'] },
    { tenant: 'gone', key_env: 'UNSET_MCP_KEY' },
  ],
});

describe('KeyTable', () => {
  const keys = new KeyTable(cfg, 'local-access-token-xyz', { CI_MCP_KEY: 'ci-key-0123456789abcdef' });

  it('maps each key to its tenant and rights; the access token is the local admin', () => {
    expect(keys.resolve('Bearer local-access-token-xyz')).toEqual({ ok: true, principal: { tenant: 'local', admin: true, issues: '*', keyId: 'local' } });
    expect(keys.resolve('Bearer team-a-key-0123456789')).toMatchObject({ ok: true, principal: { tenant: 'team-a', admin: true } });
    expect(keys.resolve('bearer ci-key-0123456789abcdef')).toMatchObject({ ok: true, principal: { tenant: 'ci', admin: false, issues: ['issue-1'] } });
  });

  it('tells a missing key from a wrong one, and skips keys whose variable is unset', () => {
    expect(keys.resolve(undefined)).toEqual({ ok: false, reason: 'missing_key' });
    expect(keys.resolve('Basic abc')).toEqual({ ok: false, reason: 'missing_key' });
    expect(keys.resolve('Bearer nope')).toEqual({ ok: false, reason: 'invalid_key' });
    expect(keys.unresolved).toEqual(['gone (UNSET_MCP_KEY unset)']);
    expect(unauthorizedBody('invalid_key').error).toMatchObject({ code: 401, message: expect.stringMatching(/^Unauthorized: Invalid or missing API key/) });
  });

  it("accepts the seed's SELF_BUILDING_MCP_API_KEY as a local admin key when set, refuses a short one", () => {
    const seed = 'seed-key-0123456789abcdef';
    expect(new KeyTable(cfg, 'local-access-token-xyz', { SELF_BUILDING_MCP_API_KEY: seed }).resolve(`Bearer ${seed}`)).toEqual({
      ok: true,
      principal: { tenant: 'local', admin: true, issues: '*', keyId: 'env:SELF_BUILDING_MCP_API_KEY' },
    });
    expect(keys.resolve(`Bearer ${seed}`)).toEqual({ ok: false, reason: 'invalid_key' });
    const short = new KeyTable(cfg, 'local-access-token-xyz', { SELF_BUILDING_MCP_API_KEY: 'tiny-k3y' });
    expect(short.resolve('Bearer tiny-k3y')).toEqual({ ok: false, reason: 'invalid_key' });
    // reported without the value
    expect(short.unresolved).toContain('local (SELF_BUILDING_MCP_API_KEY shorter than 16 characters)');
    expect(JSON.stringify(short.unresolved)).not.toContain('tiny-k3y');
  });

  it('reads the tenant a request names from the header or the query', () => {
    expect(requestedTenant({ 'x-tenant-id': 'a' }, '/mcp')).toBe('a');
    expect(requestedTenant({}, '/mcp?tenant=b')).toBe('b');
    expect(requestedTenant({}, '/mcp')).toBeUndefined();
  });
});

describe('[mcp] config', () => {
  it('refuses a key with neither key nor key_env, a short key, a bad tenant', () => {
    expect(mcpSection.safeParse({ keys: [{ tenant: 'x' }] }).success).toBe(false);
    expect(mcpSection.safeParse({ keys: [{ tenant: 'x', key: 'short' }] }).success).toBe(false);
    expect(mcpSection.safeParse({ keys: [{ tenant: 'a b', key: '0123456789abcdef' }] }).success).toBe(false);
  });
});
