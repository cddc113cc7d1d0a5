import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';

/** The server name Claude Code shows (`mcp__cco__publish_event`). */
export const CLAUDE_MCP_SERVER_NAME = 'cco';

export interface ClaudeMcpConfig {
  mcpServers: Record<string, { type: 'http'; url: string; headers: Record<string, string> }>;
}

/** The header naming the folder an MCP client's session works in: get_context's default root. */
export const PROJECT_ROOT_HEADER = 'x-cco-project-root';
/**
 * The variable the launcher sets to that folder (percent-encoded: a header is ASCII), which
 * Claude Code expands in the header. The file is shared by every launch; the variable is not.
 */
export const PROJECT_ROOT_ENV = 'CCO_MCP_PROJECT_ROOT';

/**
 * The `--mcp-config` document that gives Claude Code the daemon's MCP server: server `cco`, type
 * http, url `<daemon>/mcp`, the key as a bearer header, and the session's folder (empty without
 * `cco`: the daemon's project root then).
 */
export function claudeMcpConfig(daemonUrl: string, key: string): ClaudeMcpConfig {
  return {
    mcpServers: {
      [CLAUDE_MCP_SERVER_NAME]: {
        type: 'http',
        url: `${daemonUrl.replace(/\/+$/, '')}/mcp`,
        headers: { Authorization: `Bearer ${key}`, [PROJECT_ROOT_HEADER]: `\${${PROJECT_ROOT_ENV}:-}` },
      },
    },
  };
}

/** Where the launcher's MCP config lives: beside the settings file, 0600 (it holds the key). */
export const claudeMcpConfigFile = (tmpDir: string): string => join(tmpDir, '.cco-mcp-config.json');

/**
 * Writes the config file (0600, atomically) and returns its path, for
 * `claude --mcp-config <path>`. A file rather than inline JSON keeps the key out of `ps`.
 */
export function writeClaudeMcpConfig(tmpDir: string, daemonUrl: string, key: string): string {
  const file = claudeMcpConfigFile(tmpDir);
  writeFileAtomic(file, `${JSON.stringify(claudeMcpConfig(daemonUrl, key), null, 2)}\n`, 0o600, { durable: false });
  return file;
}
