import { readFileSync, statSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { claudeMcpConfig, writeClaudeMcpConfig } from './claude-mcp-config.js';

const worlds: ReturnType<typeof tempCcoEnv>[] = [];
afterEach(() => worlds.splice(0).forEach((w) => w.cleanup()));

it('describes the daemon as an http MCP server named cco with the bearer key and the session folder Claude Code expands', () => {
  expect(claudeMcpConfig('http://127.0.0.1:3000/', 'k3y')).toEqual({
    mcpServers: { cco: { type: 'http', url: 'http://127.0.0.1:3000/mcp', headers: { Authorization: 'Bearer k3y', 'x-cco-project-root': '${CCO_MCP_PROJECT_ROOT:-}' } } },
  });
});

it('writes the file 0600 (it holds the key)', () => {
  const w = tempCcoEnv();
  worlds.push(w);
  const file = writeClaudeMcpConfig(w.root, 'http://127.0.0.1:4000', 'secret-key');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(claudeMcpConfig('http://127.0.0.1:4000', 'secret-key'));
});
