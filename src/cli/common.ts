import { suggestFreePort } from '../daemon/port-holder.js';
import { loadDaemonConfig } from '../config/daemon-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { ConfigError } from '../config/config-error.js';
import { resolvePaths } from '../config/paths.js';
import type { Paths } from '../config/paths.js';
import { localUrl } from '../core/local-url.js';

/** Paths and config for a CLI command, with `--port` applied; config errors end the process. */
export function cliContext(opts: { port?: string | number | undefined } = {}): { paths: Paths; config: DaemonConfig; port: number; baseUrl: string } {
  const paths = resolvePaths();
  let config: DaemonConfig;
  try {
    config = loadDaemonConfig(paths);
  } catch (e) {
    if (e instanceof ConfigError) fatal(e.message, 78);
    throw e;
  }
  const port = opts.port !== undefined ? parsePort(opts.port) : config.daemon.port;
  return { paths, config, port, baseUrl: localUrl(config.daemon.host, port) };
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
