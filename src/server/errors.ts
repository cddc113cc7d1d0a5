import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';
import { AppError } from '../core/errors.js';
import { redactString } from '../core/redact.js';
import { storageError } from '../core/storage-errors.js';

/**
 * Every error leaves as JSON `{error: {code, message, field?}}` with a 4xx where the client
 * is at fault. Modules whose clients expect another shape (the gateway's Anthropic/OpenAI
 * errors) set their own handler inside their plugin scope.
 */
export function installErrorHandling(app: FastifyInstance, logger?: Pick<Logger, 'error'>): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    const e = toAppError(err, bodyLimitOf(req));
    // `logger`: for an app built without one (the sidecar: no per-request child loggers on its
    // hot path), its failures still reach the daemon log the answer points to
    // the answer's code and words beside the cause's: a log read with grep finds a database
    // outage by them ("database_unavailable", "PostgreSQL", "ECONNREFUSED"), not "Object"
    if (e.status >= 500) {
      const cause = ((err as { cause?: unknown }).cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code;
      (logger ?? req.log).error(
        { err: { message: redactString(err.message), stack: err.stack, ...(typeof cause === 'string' ? { code: cause } : {}) }, code: e.code, status: e.status, method: req.method, route: req.routeOptions.url },
        `request failed: ${e.code}: ${redactString(e.message)}`,
      );
    } else req.log.debug({ code: e.code, msg: e.message }, 'request rejected');
    const retry = e.details?.retryAfterSeconds;
    if (typeof retry === 'number') void reply.header('retry-after', String(retry));
    void reply.status(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new AppError(404, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });
}

/** The body limit in force for the request's route (its own `bodyLimit`, else the server's). */
function bodyLimitOf(req: FastifyRequest): number | undefined {
  try {
    return req.routeOptions.bodyLimit;
  } catch {
    return undefined;
  }
}

/** A byte count as people write limits: "1 MB", "8 MB", "512 KB", "1500 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

/** `bodyLimit`: the limit of the route that refused a body, for a 413 that says it. */
export function toAppError(err: unknown, bodyLimit?: number): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError & { validation?: { instancePath?: string; params?: { missingProperty?: string } }[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) {
    const v = fe.validation[0];
    const path = [fe.validationContext ?? 'body', (v?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.'), v?.params?.missingProperty ?? '']
      .filter(Boolean)
      .join('.');
    return new AppError(400, 'invalid_request', `${path}: ${fe.message}`, { field: path });
  }
  const code = fe?.code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (fe instanceof SyntaxError)) {
    return new AppError(400, 'invalid_json', `Malformed JSON body: ${fe.message}`, { field: 'body' });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError(413, 'body_too_large', bodyLimit ? `Request body is larger than the ${sizeText(bodyLimit)} this route accepts` : 'Request body is too large', { field: 'body' });
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AppError(415, 'unsupported_media_type', fe.message, { field: 'content-type' });
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode, String(code ?? 'bad_request').toLowerCase(), fe.message);
  }
  return storageError(err) ?? new AppError(500, 'internal_error', 'Internal error; see the daemon log (cco daemon logs)', { cause: err });
}

/**
 * Fastify's `frameworkErrors`: errors raised while routing, before any handler or hook runs (a
 * malformed URL, a path parameter over the length limit). Without it they leave in Fastify's
 * own shape (`{"error": "Bad Request", "code": "FST_ERR_..."}`), with no field named.
 * `maxParamLength`: the server's own `routerOptions.maxParamLength`, which the 414 states (each
 * server has its own: the daemon 512, the sidecar 256).
 */
export function frameworkErrors(maxParamLength: number): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, _req, reply) => {
    const e =
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new AppError(414, 'uri_too_long', `A path segment is longer than ${maxParamLength} characters; identifiers are much shorter`, { field: 'params' })
        : err.code === 'FST_ERR_BAD_URL'
          ? new AppError(400, 'invalid_request', 'The URL is malformed (bad percent-encoding)', { field: 'url' })
          : toAppError(err);
    void reply.status(e.status).send(e.toJSON());
  };
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request line or headers are larger than the server accepts (a very long URL or query string?)'],
};

/**
 * Node's `clientError`: a request the HTTP parser refused (malformed HTTP, headers over the
 * limit, a timeout). Answered in the product's error shape, then the connection is closed, as
 * Node and Fastify do.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'bad_request', 'Malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy();
}
