import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
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
 * The port `CCO_PORT` / `ORCHESTRATOR_PORT` set, as a number; a value that is no port is refused
 * naming the variable (it was ignored: the launcher went to port 3000 while the user meant another).
 */
export function envPortNumber(env: Env): number | undefined {
  const v = envPort(env);
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    const name = env.CCO_PORT !== undefined && env.CCO_PORT !== '' ? 'CCO_PORT' : 'ORCHESTRATOR_PORT';
    throw new ConfigError(`${name}=${JSON.stringify(v)} is not a port: set a number from 1 to 65535, or unset it (export -n ${name})`, name, { key: name });
  }
  return n;
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
  const portSet = envPortNumber(env);
  const host = env.CCO_HOST || (typeof daemon.host === 'string' ? daemon.host : '127.0.0.1');
  return {
    host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
    port: portSet ?? num(daemon.port, 3000),
    startupTimeoutMs: num(daemon.startup_timeout_ms, 3000),
  };
}
