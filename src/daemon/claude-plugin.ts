import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
export async function writeClaudePlugin(dir: string, catalog: AgentCatalog, version: string): Promise<{ written: boolean; agents: number }> {
  const agents = catalog.list();
  const manifest = JSON.stringify({ name: 'cco', version, description: 'CCO agent catalog: specialised agents that coordinate through the CCO sidecar and MCP tools' }, null, 2);
  // The digest covers the definitions themselves, so an unchanged catalog costs no rendering
  // (and does not load the YAML writer).
  const digest = createHash('sha256').update(manifest).update(JSON.stringify(agents)).digest('hex');
  const hashFile = join(dir, '.cco-hash');
  if (existsSync(hashFile) && readFileSync(hashFile, 'utf8') === digest) return { written: false, agents: agents.length };
  const { toClaudeCodeMarkdown } = await import('../agents/export.js');
  const files = new Map<string, string>();
  for (const a of agents) files.set(`${a.name}.md`, toClaudeCodeMarkdown(a));

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
