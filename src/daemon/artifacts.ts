import type { AgentCatalog } from '../agents/types.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { writeClaudeMcpConfig } from '../mcp/claude-mcp-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import { claudePluginDir, writeClaudePlugin } from './claude-plugin.js';
import { buildClaudeSettings } from './claude-settings.js';
import { orchestrationEnv } from './orchestration-env.js';
import { ORCHESTRATOR_RULES } from './orchestrator-rules.js';
import { sha256, writeSealed } from './sealed.js';

export interface ArtifactInput {
  paths: Paths;
  config: DaemonConfig;
  key: Buffer;
  daemonUrl: string;
  sidecarUrl: string | undefined;
  catalog: AgentCatalog;
  hookCommand: string;
  version: string;
  /** Key Claude Code presents to the daemon's MCP server and hooks (the local access token). */
  mcpKey: string;
}

/**
 * Writes what `cco` hands Claude Code: the settings file and the three sealed files (agents,
 * rules, hooks), all 0600. The sealed hooks file also records the settings file's digest so
 * that a hand-edited settings file is detected as well.
 */
export async function writeLaunchArtifacts(i: ArtifactInput): Promise<void> {
  const env = orchestrationEnv({ paths: i.paths, config: i.config, daemonUrl: i.daemonUrl, sidecarUrl: i.sidecarUrl });
  const settings = buildClaudeSettings({
    daemonUrl: i.daemonUrl,
    hooksEnabled: i.config.hooks.enabled,
    timeoutSeconds: i.config.hooks.timeout_seconds,
    transport: 'http',
    hookCommand: i.hookCommand,
    autoAllowRead: i.config.hooks.auto_allow_read,
    env,
    accessToken: i.mcpKey,
  });
  const settingsText = JSON.stringify(settings, null, 2);
  writeFileAtomic(i.paths.settingsFile, settingsText, 0o600, { durable: false });
  const agents = i.catalog.list().map((a) => ({ name: a.name, description: a.description, model: a.model, category: a.category, tools: a.tools, topics: a.topics }));
  writeSealed(i.key, i.paths.sealedAgentsFile, JSON.stringify({ version: 1, agents }));
  writeSealed(i.key, i.paths.sealedRulesFile, ORCHESTRATOR_RULES);
  writeClaudeMcpConfig(i.paths.tmpDir, i.daemonUrl, i.mcpKey);
  await writeClaudePlugin(claudePluginDir(i.paths.tmpDir), i.catalog, i.version);
  writeSealed(i.key, i.paths.sealedHooksFile, JSON.stringify({ version: 1, hooks: settings.hooks, settings_sha256: sha256(settingsText) }));
}
