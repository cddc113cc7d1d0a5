import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import type { LogBuffer } from '../core/log-buffer.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';
import type { SqlWriter } from '../store/sql-writer.js';
import type { Store } from '../store/store.js';

/** What the daemon hands every module: narrow, already-open services. */
export interface ModuleContext {
  config: DaemonConfig;
  paths: Paths;
  store: Store;
  /**
   * Where writes that should stay off the event loop go (the sidecar's, the gateway's analytics
   * rows): one thread with a connection of its own on a SQLite file, the store's connection
   * otherwise. The daemon closes it after its modules.
   */
  writer: SqlWriter;
  logger: Logger;
  logs: LogBuffer;
  hub: Hub;
  metrics: Registry;
  /** `REDIS_URL` (or config); undefined means in-process backends. */
  redisUrl: string | undefined;
  /** The daemon's local access token (dashboard, WebSockets). */
  accessToken: string;
  version: string;
  /** The daemon's own base URL, e.g. http://127.0.0.1:3000 (valid once listening). */
  selfUrl(): string;
  /** Process environment as the daemon saw it at start (provider keys, base URL overrides). */
  env: Record<string, string | undefined>;
}

export type PartStatus = 'ok' | 'degraded' | 'down' | 'disabled' | 'starting';

export interface PartHealth {
  status: PartStatus;
  [detail: string]: unknown;
}

/** A part of the daemon: mounts routes, starts after listen, reports health, closes. */
export interface DaemonModule {
  readonly name: string;
  /** Mount routes on the daemon's Fastify app (port 3000). Called before listen. */
  register?(app: FastifyInstance): Promise<void> | void;
  /** Called once the daemon listens (e.g. the sidecar opens its own port). */
  start?(): Promise<void>;
  health?(): Promise<PartHealth> | PartHealth;
  /**
   * The daemon begins to stop, before it waits for the requests in flight: end what would hold
   * them and be ended anyway (long-polls, runs whose own gateway calls are in flight).
   */
  stopping?(): void;
  /**
   * The grace for requests in flight is over and their connections are about to be cut: answer
   * what still runs with an error saying so (a cut reads as the client's own disconnect).
   */
  cutting?(): void;
  /** Graceful stop: stop accepting, finish or persist in-flight work, release resources. */
  close?(): Promise<void>;
}
