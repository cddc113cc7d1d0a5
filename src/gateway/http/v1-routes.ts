import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { encodedBodyError } from '../../server/json-body.js';
import type { GatewayCore } from '../proxy/gateway-core.js';
import { errorBody } from '../proxy/errors.js';
import type { ClientFormat } from '../proxy/errors.js';
import type { Endpoint } from '../proxy/inbound.js';

/** Route-level body limit of /v1: Claude Code sends long conversations and images. */
export const V1_BODY_LIMIT = 32 * 1024 * 1024;

/** The body errors both /v1 paths answer (this Fastify scope and the lean handler). */
export const V1_BODY_ERRORS = {
  tooLarge: { status: 413, message: `Request body is larger than ${V1_BODY_LIMIT / 1024 / 1024} MB`, code: 'body_too_large' },
  notAnObject: 'body: a JSON object is required',
  malformed: (e: Error) => `body: malformed JSON: ${e.message}`,
} as const;

/** A /v1 body as both paths read it: the bytes to forward and their JSON, or the 4xx to answer. */
export type V1Body = { raw: Buffer; json: unknown } | { error: { status: number; message: string; code: string; field: string } };

/**
 * Reads a /v1 request body. A compressed body is a 415 (`encodedBodyError`). A UTF-8 byte order
 * mark is dropped from the bytes forwarded too, as the daemon's own JSON parser drops it.
 */
export function parseV1Body(body: Buffer, encoding: string | undefined): V1Body {
  const encoded = encodedBodyError(encoding);
  if (encoded) return { error: { status: encoded.status, message: encoded.message, code: encoded.code, field: encoded.field as string } };
  const raw = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body;
  if (raw.length === 0) return { raw, json: undefined };
  try {
    return { raw, json: JSON.parse(raw.toString('utf8')) as unknown };
  } catch (e) {
    return { error: { status: 400, message: V1_BODY_ERRORS.malformed(e as Error), code: 'invalid_json', field: 'body' } };
  }
}

const formatOf = (url: string, headers: FastifyRequest['headers']): ClientFormat =>
  url.startsWith('/v1/chat') || (url.startsWith('/v1/models') && headers['anthropic-version'] === undefined && headers['x-api-key'] === undefined) ? 'openai' : 'anthropic';

/** Fastify errors (bad JSON, too large, wrong media type) as the client's API error. */
function clientError(err: FastifyError | AppError, req: FastifyRequest): { status: number; message: string; code: string; field?: string | undefined } {
  // The shared security layer's refusals (foreign Host, browser Origin, missing token) keep their status.
  if (err instanceof AppError) return { status: err.status, message: err.message, code: err.code, field: err.field };
  const code = err.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return V1_BODY_ERRORS.tooLarge;
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, message: V1_BODY_ERRORS.notAnObject, code: 'invalid_json' };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, message: `Unsupported content-type ${String(req.headers['content-type'])}; send application/json`, code: 'unsupported_media_type' };
  if (err instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status: 400, message: V1_BODY_ERRORS.malformed(err), code: 'invalid_json' };
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  return { status, message: status >= 500 ? 'Internal gateway error; see the daemon log' : err.message, code: status >= 500 ? 'internal_error' : 'invalid_request' };
}

/**
 * The provider-compatible API under /v1 (Anthropic Messages, OpenAI Chat Completions, models).
 * Thin: parse the body keeping its raw bytes, hand the request to the core, which answers on
 * the raw response (streams are relayed chunk by chunk). Errors leave in the client's shape.
 */
export async function registerV1Routes(app: FastifyInstance, core: GatewayCore): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Keep the exact bytes: a pass-through route forwards them untouched.
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: V1_BODY_LIMIT }, (req, body, done) => {
      const parsed = parseV1Body(body as Buffer, req.headers['content-encoding']);
      if ('error' in parsed) {
        const { status, code, message, field } = parsed.error;
        return done(new AppError(status, code, message, { field }), undefined);
      }
      done(null, parsed);
    });
    scope.setErrorHandler((err: FastifyError | AppError, req, reply) => {
      const e = clientError(err, req);
      if (e.status >= 500) req.log.error({ err: err.message }, 'gateway route failed');
      void reply.status(e.status).send(errorBody(formatOf(req.url, req.headers), e.status, e.message, e.code, e.field));
    });
    scope.setNotFoundHandler((req, reply) => {
      const f = formatOf(req.url, req.headers);
      void reply.status(404).send(errorBody(f, 404, `No gateway route ${req.method} ${req.url.split('?')[0]}; use POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/chat/completions or GET /v1/models`, 'not_found'));
    });

    const handler = (clientFormat: ClientFormat, endpoint: Endpoint) => async (req: FastifyRequest, reply: FastifyReply) => {
      const parsed = req.body as { raw: Buffer; json: unknown } | undefined;
      const json = parsed?.json;
      if (!json || typeof json !== 'object' || Array.isArray(json)) {
        return reply.status(400).send(errorBody(clientFormat, 400, V1_BODY_ERRORS.notAnObject, 'invalid_request', 'body'));
      }
      const q = req.url.indexOf('?');
      reply.hijack();
      await core.handle(
        { id: randomUUID(), clientFormat, endpoint, query: q >= 0 ? req.url.slice(q) : '', headers: req.headers, raw: (parsed as { raw: Buffer }).raw, body: json as Record<string, unknown>, receivedAt: Date.now() },
        reply.raw,
      );
    };
    const opts = { bodyLimit: V1_BODY_LIMIT };
    scope.post('/messages', opts, handler('anthropic', 'messages'));
    scope.post('/messages/count_tokens', opts, handler('anthropic', 'count_tokens'));
    scope.post('/chat/completions', opts, handler('openai', 'chat_completions'));
    const query = (url: string): string => (url.includes('?') ? url.slice(url.indexOf('?')) : '');
    scope.get('/models', async (req, reply) => {
      reply.hijack();
      await core.models(formatOf(req.url, req.headers), req.headers, reply.raw, { query: query(req.url) });
    });
    scope.get('/models/:id', async (req, reply) => {
      reply.hijack();
      const { id } = req.params as { id: string };
      await core.models(formatOf(req.url, req.headers), req.headers, reply.raw, { query: query(req.url), id });
    });
  }, { prefix: '/v1' });
}
