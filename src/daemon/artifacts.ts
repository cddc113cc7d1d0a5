import { existsSync, readFileSync } from 'node:fs';
import type { AgentCatalog } from '../agents/types.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { writeClaudeMcpConfig } from '../mcp/claude-mcp-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import { buildClaudeSettings } from './claude-settings.js';
import { orchestrationEnv } from './orchestration-env.js';
import { ORCHESTRATOR_RULES } from './orchestrator-rules.js';
import { SealedFileError, readSealed, sha256, writeSealed } from './sealed.js';

export interface ArtifactInput {
  paths: Paths;
  config: DaemonConfig;
  key: Buffer;
  daemonUrl: string;
  sidecarUrl: string | undefined;
  catalog: AgentCatalog;
  hookCommand: string;
  /** Key Claude Code presents to the daemon's MCP server (the local access token). */
  mcpKey: string;
}

/**
 * Writes what `cco` hands Claude Code: the settings file and the three sealed files (agents,
 * rules, hooks), all 0600. The sealed hooks file also records the settings file's digest so
 * that a hand-edited settings file is detected as well.
 */
export function writeLaunchArtifacts(i: ArtifactInput): void {
  const env = orchestrationEnv({ paths: i.paths, config: i.config, daemonUrl: i.daemonUrl, sidecarUrl: i.sidecarUrl });
  const settings = buildClaudeSettings({
    daemonUrl: i.daemonUrl,
    hooksEnabled: i.config.hooks.enabled,
    timeoutSeconds: i.config.hooks.timeout_seconds,
    transport: 'http',
    hookCommand: i.hookCommand,
    autoAllowRead: i.config.hooks.auto_allow_read,
    env,
  });
  const settingsText = JSON.stringify(settings, null, 2);
  writeFileAtomic(i.paths.settingsFile, settingsText, 0o600);
  const agents = i.catalog.list().map((a) => ({ name: a.name, description: a.description, model: a.model, category: a.category, tools: a.tools, topics: a.topics }));
  writeSealed(i.key, i.paths.sealedAgentsFile, JSON.stringify({ version: 1, agents }));
  writeSealed(i.key, i.paths.sealedRulesFile, ORCHESTRATOR_RULES);
  writeClaudeMcpConfig(i.paths.tmpDir, i.daemonUrl, i.mcpKey);
  writeSealed(i.key, i.paths.sealedHooksFile, JSON.stringify({ version: 1, hooks: settings.hooks, settings_sha256: sha256(settingsText) }));
}

/**
 * Checks every launch file: present, decryptable with the daemon's key, settings unmodified.
 * Throws SealedFileError with the seeds' message and remedy.
 */
export function verifyLaunchArtifacts(paths: Paths, key: Buffer): { agents: number } {
  const hooks = JSON.parse(readSealed(key, paths.sealedHooksFile)) as { settings_sha256: string };
  const agents = JSON.parse(readSealed(key, paths.sealedAgentsFile)) as { agents: unknown[] };
  readSealed(key, paths.sealedRulesFile);
  return { agents: agents.agents.length, ...verifySettingsDigest(paths, hooks.settings_sha256) };
}

function verifySettingsDigest(paths: Paths, expected: string): Record<string, never> {
  if (!existsSync(paths.settingsFile)) {
    throw new SealedFileError('sealed_missing', paths.settingsFile, 'Temp file missing: .cco-orchestrator-settings. Restart the daemon to regenerate it: cco daemon restart');
  }
  if (sha256(readFileSync(paths.settingsFile)) !== expected) {
    throw new SealedFileError(
      'sealed_tampered',
      paths.settingsFile,
      `Settings file verification failed: ${paths.settingsFile} does not match what the daemon wrote. Remove the files and restart: rm -f ${paths.tmpDir}/.cco-* && cco daemon restart`,
    );
  }
  return {};
}
