import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { installJsonBodies } from './json-body.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './errors.js';
import { installHttpMetrics } from './metrics.js';
import { installSecurity } from './security.js';
import type { SecurityOptions } from './security.js';

export interface AppOptions {
  logger: Logger;
  metrics: Registry;
  security: SecurityOptions;
  /** Default body limit; routes that take large bodies (the gateway) raise their own. */
  bodyLimit?: number;
  /** Fastify's trustProxy: where `req.ip` comes from behind a proxy (`[daemon] trust_proxy`). */
  trustProxy?: boolean | string;
}

/** The longest path segment the daemon's router takes (a longer one is a 414 saying this number). */
const MAX_PARAM_LENGTH = 512;

/** The daemon's Fastify app with the cross-cutting parts every route shares. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Per-request access logs would cost the hot path; errors are logged by the error handler.
    // At debug or trace (`--log-level debug`), they are what was asked for.
    loggerInstance: opts.logger.child({ module: 'http' }, { level: ['debug', 'trace'].includes(opts.logger.level) ? opts.logger.level : 'warn' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // path parameters carry identifiers of up to 128 characters (the sidecar's, through
    // /api/orchestration/*); Fastify's default of 100 answered 414
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    return503OnClosing: true,
    // requests in flight finish on close (closeGracefully bounds the wait)
    forceCloseConnections: 'idle',
    keepAliveTimeout: 72_000,
    trustProxy: opts.trustProxy ?? false,
    frameworkErrors: frameworkErrors(MAX_PARAM_LENGTH),
    clientErrorHandler,
  });
  installErrorHandling(app);
  installJsonBodies(app);
  installSecurity(app, opts.security);
  installHttpMetrics(app, opts.metrics);
  await app.register(websocket, {
    options: { maxPayload: 1024 * 1024 },
    // What a client does wrong on a socket (a frame over 1 MB, bad UTF-8, a reset) is its
    // fault, not the server's: a debug line without a stack. Anything else stays an error.
    errorHandler(error, socket, req) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE') req.log.debug({ code, msg: error.message }, 'websocket closed: client error');
      else req.log.error({ err: { message: error.message, stack: error.stack } }, 'websocket failed');
      socket.terminate();
    },
  });
  return app;
}
