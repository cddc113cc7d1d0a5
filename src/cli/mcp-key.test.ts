import { describe, expect, it } from 'vitest';
import { mcpKey } from './mcp.js';

describe('cco mcp: which key it presents', () => {
  it("prefers an explicit key, then this machine's token, then the seed's variable; empty values are unset", () => {
    expect(mcpKey('flag-key', { CCO_MCP_KEY: 'env-key' }, 'local')).toBe('flag-key');
    expect(mcpKey(undefined, { CCO_MCP_KEY: 'env-key', SELF_BUILDING_MCP_API_KEY: 'seed-key-0123456789' }, 'local')).toBe('env-key');
    // a seed key the local daemon may not have does not shadow the token that works
    expect(mcpKey(undefined, { SELF_BUILDING_MCP_API_KEY: 'seed-key-0123456789' }, 'local-token\n')).toBe('local-token');
    expect(mcpKey(undefined, { SELF_BUILDING_MCP_API_KEY: 'seed-key-0123456789' }, undefined)).toBe('seed-key-0123456789');
    expect(mcpKey('', { CCO_MCP_KEY: ' ', SELF_BUILDING_MCP_API_KEY: '' }, 'local')).toBe('local');
    expect(mcpKey(undefined, {}, undefined)).toBe('');
  });
});
