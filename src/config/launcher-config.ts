import { existsSync, readFileSync } from 'node:fs';
import type { Env, Paths } from './paths.js';
import { parseTomlConfig } from './toml-file.js';

export interface LauncherConfig {
  host: string;
  port: number;
  startupTimeoutMs: number;
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
  const envPort = env.CCO_PORT !== undefined && env.CCO_PORT !== '' ? Number(env.CCO_PORT) : undefined;
  const host = env.CCO_HOST || (typeof daemon.host === 'string' ? daemon.host : '127.0.0.1');
  return {
    host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
    port: envPort !== undefined && Number.isInteger(envPort) ? envPort : num(daemon.port, 3000),
    startupTimeoutMs: num(daemon.startup_timeout_ms, 3000),
  };
}
