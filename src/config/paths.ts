import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Every place CCO reads or writes, resolved once. Each is overridable by environment so that
 * tests (and users with unusual setups) never touch the real home directory:
 * - `CCO_HOME` (default `~/.cco`): database, results, logs, the sealing key
 * - `CCO_CONFIG_DIR` (default `~/.config/cco`): `daemon.toml`
 * - `CCO_TMPDIR`, then `TMPDIR` (default the OS temp dir): the Claude Code settings file and
 *   the sealed files; the daemon's runtime directory (the seeds' "VFS")
 * - `CCO_RUNTIME_DIR` (default `<home>/run`): pid/lock files and the local access token
 */
export interface Paths {
  home: string;
  configDir: string;
  configFile: string;
  tmpDir: string;
  runtimeDir: string;
  logDir: string;
  databaseFile: string;
  resultsDir: string;
  keyFile: string;
  tokenFile: string;
  settingsFile: string;
  sealedAgentsFile: string;
  sealedRulesFile: string;
  sealedHooksFile: string;
  workspaceDir: string;
  archiveDir: string;
  routingConfigFile: string;
}

export type Env = Record<string, string | undefined>;

export function resolvePaths(env: Env = process.env): Paths {
  const home = resolve(env.CCO_HOME || join(homedir(), '.cco'));
  const configDir = resolve(env.CCO_CONFIG_DIR || join(homedir(), '.config', 'cco'));
  const tmpDir = resolve(env.CCO_TMPDIR || env.TMPDIR || tmpdir());
  const runtimeDir = resolve(env.CCO_RUNTIME_DIR || join(home, 'run'));
  return {
    home,
    configDir,
    configFile: join(configDir, 'daemon.toml'),
    tmpDir,
    runtimeDir,
    logDir: join(home, 'logs'),
    databaseFile: join(home, 'analytics.db'),
    resultsDir: join(home, 'orchestration', 'results'),
    keyFile: join(home, 'sealing.key'),
    tokenFile: join(runtimeDir, 'access-token'),
    settingsFile: join(tmpDir, '.cco-orchestrator-settings'),
    sealedAgentsFile: join(tmpDir, '.cco-agents-sealed'),
    sealedRulesFile: join(tmpDir, '.cco-rules-sealed'),
    sealedHooksFile: join(tmpDir, '.cco-hooks-sealed'),
    workspaceDir: join(home, 'workspace'),
    archiveDir: join(home, 'completed_archive'),
    routingConfigFile: resolve(env.CCO_ROUTING_CONFIG || join(configDir, 'model-routing.json')),
  };
}

/** The daemon log file of a given port (one daemon per port). */
export function daemonLogFile(paths: Paths, port: number): string {
  return join(paths.logDir, port === 3000 ? 'daemon.log' : `daemon-${port}.log`);
}
