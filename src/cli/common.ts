import { suggestFreePort } from '../daemon/port-holder.js';
import { readdirSync } from 'node:fs';
import { defaultDaemonConfig, loadDaemonConfig } from '../config/daemon-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { ConfigError } from '../config/config-error.js';
import { resolvePaths } from '../config/paths.js';
import type { Paths } from '../config/paths.js';
import { localUrl } from '../core/local-url.js';

/**
 * What a command needs to reach the daemon: its paths, config, port and URL. A daemon.toml with an
 * error stops the command (exit 78) unless `lenient`: commands that only need to find the running
 * daemon (stop, logs, status, health) then say what is wrong with the file and go on with the
 * defaults, the port from --port, CCO_PORT, or the one daemon the runtime folder records (a file
 * edited wrongly while the daemon ran had kept it from being stopped).
 */
export function cliContext(opts: { port?: string | number | undefined; lenient?: boolean } = {}): { paths: Paths; config: DaemonConfig; port: number; baseUrl: string } {
  const paths = resolvePaths();
  let config: DaemonConfig;
  let fallbackPort: number | undefined;
  try {
    config = loadDaemonConfig(paths);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (!opts.lenient) fatal(e.message, 78);
    say(`⚠️  ${e.message}\n   (this command goes on with the defaults; fix the file before the daemon's next start)`);
    config = defaultDaemonConfig();
    const envPort = process.env.CCO_PORT ?? process.env.ORCHESTRATOR_PORT;
    const recorded = recordedDaemonPorts(paths);
    fallbackPort = envPort ? parsePort(envPort) : recorded.length === 1 ? recorded[0] : undefined;
  }
  const port = opts.port !== undefined ? parsePort(opts.port) : (fallbackPort ?? config.daemon.port);
  return { paths, config, port, baseUrl: localUrl(config.daemon.host, port) };
}

/** The ports of the daemons this home's runtime folder has lock files for. */
function recordedDaemonPorts(paths: Paths): number[] {
  try {
    return readdirSync(paths.runtimeDir)
      .map((f) => /^daemon-(\d+)\.json$/.exec(f)?.[1])
      .filter((p): p is string => p !== undefined)
      .map(Number);
  } catch {
    return [];
  }
}

export function parsePort(v: string | number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fatal(`Invalid port ${String(v)}: use a number from 1 to 65535 (or 0 to let the OS choose)`, 2);
  return n;
}

/** Prints one clear sentence (and the fix) to stderr and exits. */
export function fatal(message: string, code = 1): never {
  process.stderr.write(`❌ ${message}\n`);
  process.exit(code);
}

export const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** The command that starts the daemon a command was pointed at: with its `--port` when one was given. */
export function startCommand(portOpt: string | number | undefined): string {
  return portOpt === undefined ? 'cco daemon start' : `cco daemon start --port ${portOpt}`;
}

/**
 * Nothing CCO answers at `baseUrl`: "not running", with how to start it; or, when a process that
 * is no CCO daemon holds the port without answering HTTP (a start there would fail with "already in
 * use"), who holds it and the ways out. `held`: that holder (findPortHolder), when one was found.
 */
export function notRunningMessage(baseUrl: string, port: number, portOpt: string | number | undefined, held: { pid: number; command: string } | undefined): string {
  if (!held) return `Daemon is not running at ${baseUrl}. Start it with \`${startCommand(portOpt)}\`.`;
  const other = suggestFreePort(port + 2, true);
  return `No CCO daemon at ${baseUrl}: port ${port} is held by ${held.command} (PID ${held.pid}), which does not answer as one. Stop it (kill ${held.pid}) or use another port: cco daemon start --port ${other} (and CCO_PORT=${other} for cco).`;
}
