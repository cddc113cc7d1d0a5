import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { resolvePaths } from '../config/paths.js';
import { claudePluginDir, writeClaudePlugin } from './claude-plugin.js';
import { SealedFileError, sha256, writeSealed } from './sealed.js';
import { verifyLaunchArtifacts } from './verify-artifacts.js';

const root = mkdtempSync(join(tmpdir(), 'cco-verify-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function failure(fn: () => unknown): SealedFileError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SealedFileError) return e;
    throw e;
  }
  return undefined;
}

describe('launch verification', () => {
  const paths = resolvePaths({ CCO_HOME: join(root, 'home'), CCO_TMPDIR: join(root, 'tmp') });
  const key = randomBytes(32);
  const plugin = claudePluginDir(paths.tmpDir);
  const catalog = catalogOf([
    { name: 'python-specialist', description: 'd', tools: [], model: 'sonnet', category: 'language', context: { include: [] }, topics: { subscribe: [], publish: [] }, prompt: 'You are the Python specialist.' },
  ]);

  it('checks the agent plugin folder beside the sealed files', async () => {
    const settings = '{"hooks":{}}';
    writeSealed(key, paths.sealedHooksFile, JSON.stringify({ version: 1, hooks: {}, settings_sha256: sha256(settings) }));
    writeSealed(key, paths.sealedAgentsFile, JSON.stringify({ version: 1, agents: [{}] }));
    writeSealed(key, paths.sealedRulesFile, 'rules');
    writeFileSync(paths.settingsFile, settings);
    expect(failure(() => verifyLaunchArtifacts(paths, key))?.code).toBe('sealed_missing');

    await writeClaudePlugin(plugin, catalog, '1.0.0');
    expect(verifyLaunchArtifacts(paths, key)).toEqual({ agents: 1 });

    // a prompt rewritten after the daemon wrote it never reaches Claude Code
    writeFileSync(join(plugin, 'agents', 'python-specialist.md'), 'INJECTED');
    const e = failure(() => verifyLaunchArtifacts(paths, key));
    expect(e?.code).toBe('sealed_tampered');
    expect(e?.message).toMatch(/Agent plugin verification failed: .*\.cco-plugin .*cco daemon restart/);

    await writeClaudePlugin(plugin, catalog, '1.0.0');
    chmodSync(join(plugin, 'agents'), 0o777);
    expect(failure(() => verifyLaunchArtifacts(paths, key))?.message).toMatch(/agents is writable by group or others/);
    chmodSync(join(plugin, 'agents'), 0o700);
    expect(verifyLaunchArtifacts(paths, key)).toEqual({ agents: 1 });
    if (process.geteuid?.() === 0) {
      chownSync(plugin, 65534, 65534);
      expect(failure(() => verifyLaunchArtifacts(paths, key))?.message).toMatch(/owned by another user/);
    }
  });
});
