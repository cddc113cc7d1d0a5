import { existsSync, readFileSync } from 'node:fs';
import type { Paths } from '../config/paths.js';
import { SealedFileError, readSealed, sha256 } from './sealed.js';

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
