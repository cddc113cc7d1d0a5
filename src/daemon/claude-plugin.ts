import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toClaudeCodeMarkdown } from '../agents/export.js';
import type { AgentCatalog } from '../agents/types.js';

/**
 * The agent catalog as a Claude Code plugin folder (`.claude-plugin/plugin.json` + `agents/*.md`),
 * given to Claude Code with `--plugin-dir`, so its Task tool can spawn the catalog's agents
 * without CCO writing into the user's project or home. 119 prompts are far too large for the
 * `--agents` flag (one argument is capped at 128 KiB on Linux).
 *
 * Rewritten only when the catalog changed (a content hash is kept beside it), because the
 * daemon does this on every start.
 */
export function writeClaudePlugin(dir: string, catalog: AgentCatalog, version: string): { written: boolean; agents: number } {
  const files = new Map<string, string>();
  for (const a of catalog.list()) files.set(`${a.name}.md`, toClaudeCodeMarkdown(a));
  const manifest = JSON.stringify({ name: 'cco', version, description: 'CCO agent catalog: specialised agents that coordinate through the CCO sidecar and MCP tools' }, null, 2);
  const hash = createHash('sha256').update(manifest);
  for (const [name, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) hash.update(name).update(text);
  const digest = hash.digest('hex');
  const hashFile = join(dir, '.cco-hash');
  if (existsSync(hashFile) && readFileSync(hashFile, 'utf8') === digest) return { written: false, agents: files.size };

  const agentsDir = join(dir, 'agents');
  mkdirSync(join(dir, '.claude-plugin'), { recursive: true, mode: 0o700 });
  mkdirSync(agentsDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, '.claude-plugin', 'plugin.json'), manifest, { mode: 0o600 });
  for (const f of readdirSync(agentsDir)) if (!files.has(f)) rmSync(join(agentsDir, f), { force: true });
  for (const [name, text] of files) writeFileSync(join(agentsDir, name), text, { mode: 0o600 });
  writeFileSync(hashFile, digest, { mode: 0o600 });
  return { written: true, agents: files.size };
}

export { claudePluginDir } from './launch-paths.js';
