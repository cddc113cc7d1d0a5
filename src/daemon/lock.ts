import { join } from 'node:path';
import { readOwner, takeOwnerLock } from '../core/owner-lock.js';
import type { OwnerLock } from '../core/owner-lock.js';
import { isAlive } from '../core/process-alive.js';
import type { Paths } from '../config/paths.js';

/** What a running daemon records about itself, one file per port in the runtime directory. */
export interface DaemonInfo {
  pid: number;
  port: number;
  host: string;
  sidecarPort?: number | undefined;
  startedAt: number;
  version: string;
  logFile: string;
  /** Boot id and start time of the process (`processIdentity`): a pid alone may have come back. */
  identity?: string | undefined;
}

export const lockFileOf = (paths: Paths, port: number): string => join(paths.runtimeDir, `daemon-${port}.json`);

export { isAlive };

export class AlreadyRunningError extends Error {
  constructor(readonly info: DaemonInfo) {
    super(`Daemon already running on port ${info.port} (PID ${info.pid}). Stop it with \`cco daemon stop --port ${info.port}\` or use another port.`);
    this.name = 'AlreadyRunningError';
  }
}

/** The daemon recorded for a port, if its process is alive; a stale record is removed. */
export function readDaemonInfo(paths: Paths, port: number): DaemonInfo | undefined {
  return readOwner<DaemonInfo>(lockFileOf(paths, port));
}

/**
 * Takes the port's lock (exclusive create). A lock left by a dead process is recovered; one
 * held by a live daemon throws AlreadyRunningError.
 */
export function acquireLock(paths: Paths, info: DaemonInfo): OwnerLock<DaemonInfo> {
  return takeOwnerLock(lockFileOf(paths, info.port), info, (running) => {
    throw new AlreadyRunningError(running);
  });
}
