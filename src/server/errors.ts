import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '../core/logger.js';
import { AppError } from '../core/errors.js';
import { redactString } from '../core/redact.js';

/**
 * Every error leaves as JSON `{error: {code, message, field?}}` with a 4xx where the client
 * is at fault. Modules whose clients expect another shape (the gateway's Anthropic/OpenAI
 * errors) set their own handler inside their plugin scope.
 */
export function installErrorHandling(app: FastifyInstance, logger?: Pick<Logger, 'error'>): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    const e = toAppError(err);
    // `logger`: for an app built without one (the sidecar: no per-request child loggers on its
    // hot path), its failures still reach the daemon log the answer points to
    if (e.status >= 500) (logger ?? req.log).error({ err: { message: redactString(err.message), stack: err.stack }, method: req.method, route: req.routeOptions.url }, 'request failed');
    else req.log.debug({ code: e.code, msg: e.message }, 'request rejected');
    void reply.status(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new AppError(404, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });
}

export function toAppError(err: unknown): AppError {
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
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError(413, 'body_too_large', 'Request body is too large', { field: 'body' });
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AppError(415, 'unsupported_media_type', fe.message, { field: 'content-type' });
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode, String(code ?? 'bad_request').toLowerCase(), fe.message);
  }
  return new AppError(500, 'internal_error', 'Internal error; see the daemon log (cco daemon logs)', { cause: err });
}
