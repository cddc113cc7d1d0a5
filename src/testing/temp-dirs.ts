import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../config/paths.js';

/**
 * A throwaway CCO environment: home, config dir, tmp dir and runtime dir under one temp
 * folder, as environment variables for a daemon or CLI under test.
 */
export function tempCcoEnv(): { root: string; env: Env; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'cco-test-'));
  const env: Env = {
    CCO_HOME: join(root, 'home'),
    CCO_CONFIG_DIR: join(root, 'config'),
    CCO_TMPDIR: join(root, 'tmp'),
    CCO_RUNTIME_DIR: join(root, 'run'),
    HOME: join(root, 'userhome'),
  };
  return { root, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
