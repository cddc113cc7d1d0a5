import { existsSync, readFileSync } from 'node:fs';
import type { Env, Paths } from './paths.js';
import { parseTomlConfig } from './toml-file.js';

export interface LauncherConfig {
  host: string;
  port: number;
  startupTimeoutMs: number;
}

/**
 * The port set by environment: `CCO_PORT`, else `ORCHESTRATOR_PORT` (the orchestrator guide's
 * "use a different port": `export ORCHESTRATOR_PORT=8101`). Undefined when neither is set.
 */
export function envPort(env: Env): string | undefined {
  if (env.CCO_PORT !== undefined && env.CCO_PORT !== '') return env.CCO_PORT;
  return env.ORCHESTRATOR_PORT !== undefined && env.ORCHESTRATOR_PORT !== '' ? env.ORCHESTRATOR_PORT : undefined;
}

/**
 * The few settings the launcher needs (where the daemon is, how long to wait for it), read
 * without the full schema: `cco` runs on every Claude Code launch and must start fast. The
 * daemon validates the whole file when it starts and reports any error.
 */
export function readLauncherConfig(paths: Paths, env: Env = process.env): LauncherConfig {
  let daemon: Record<string, unknown> = {};
  if (existsSync(paths.configFile)) {
    const raw = parseTomlConfig(readFileSync(paths.configFile, 'utf8'), paths.configFile) as { daemon?: Record<string, unknown> };
    daemon = raw.daemon ?? {};
  }
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) ? v : d);
  const fromEnv = envPort(env);
  const portSet = fromEnv !== undefined ? Number(fromEnv) : undefined;
  const host = env.CCO_HOST || (typeof daemon.host === 'string' ? daemon.host : '127.0.0.1');
  return {
    host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
    port: portSet !== undefined && Number.isInteger(portSet) ? portSet : num(daemon.port, 3000),
    startupTimeoutMs: num(daemon.startup_timeout_ms, 3000),
  };
}
