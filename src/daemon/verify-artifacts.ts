import { existsSync, readFileSync } from 'node:fs';
import type { Paths } from '../config/paths.js';
import { claudePluginDir, claudePluginProblem } from './claude-plugin.js';
import { SealedFileError, readSealed, sha256 } from './sealed.js';

/**
 * Checks every launch file: present, decryptable with the daemon's key, settings unmodified,
 * the agent plugin folder private and as the daemon wrote it (its prompts reach the subagents).
 * Throws SealedFileError with the seeds' message and remedy.
 */
export function verifyLaunchArtifacts(paths: Paths, key: Buffer): { agents: number } {
  const hooks = JSON.parse(readSealed(key, paths.sealedHooksFile)) as { settings_sha256: string };
  const agents = JSON.parse(readSealed(key, paths.sealedAgentsFile)) as { agents: unknown[] };
  readSealed(key, paths.sealedRulesFile);
  verifyPluginFolder(paths);
  return { agents: agents.agents.length, ...verifySettingsDigest(paths, hooks.settings_sha256) };
}

function verifyPluginFolder(paths: Paths): void {
  const dir = claudePluginDir(paths.tmpDir);
  const p = claudePluginProblem(dir);
  if (!p) return;
  if (p.missing) throw new SealedFileError('sealed_missing', dir, `Temp file missing: .cco-plugin. Restart the daemon to regenerate it: cco daemon restart`);
  throw new SealedFileError(
    'sealed_tampered',
    dir,
    `Agent plugin verification failed: ${dir} ${p.problem}. The daemon writes it anew when it restarts: cco daemon restart (if it belongs to another user, remove it or set CCO_TMPDIR to a folder only you can write)`,
  );
}

function verifySettingsDigest(paths: Paths, expected: string): Record<string, never> {
  if (!existsSync(paths.settingsFile)) {
    throw new SealedFileError('sealed_missing', paths.settingsFile, `Orchestrator settings not found at: ${paths.settingsFile}. This usually means the daemon failed to start or its temp files were removed (Temp file missing: .cco-orchestrator-settings). Restart the daemon to regenerate it: cco daemon restart`);
  }
  if (sha256(readFileSync(paths.settingsFile)) !== expected) {
    throw new SealedFileError(
      'sealed_tampered',
      paths.settingsFile,
      `Settings file verification failed: ${paths.settingsFile} does not match what the daemon wrote. The daemon writes them anew when it restarts: cco daemon restart`,
    );
  }
  return {};
}
