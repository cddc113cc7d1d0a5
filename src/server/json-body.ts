import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../core/json.js';

const FORM = 'application/x-www-form-urlencoded';
const TEXT = 'text/plain';

/**
 * The JSON request bodies of an app (the daemon's API, the sidecar): Fastify's own parser (it
 * refuses `__proto__` and `constructor.prototype` keys), plus
 * - a nesting limit (`MAX_JSON_DEPTH`): a 20 KB body nested 10,000 deep parsed fine, then made
 *   every route that serialised it fail with a stack overflow (a 500);
 * - an honest error for a forbidden key: Fastify reports it as "Body is not valid JSON", which
 *   sends a client looking for a syntax error that is not there;
 * - a compressed body (`Content-Encoding: gzip` …) is a 415 naming the header;
 * - form-encoded bodies read as JSON. Why: `curl -d '{"older_than_days": 90}' URL` — the way the
 *   guides and users write it — sends `Content-Type: application/x-www-form-urlencoded`, and
 *   Fastify would answer 415. No route here takes real forms, so the body is read as the JSON it
 *   is; anything else is a 400 naming `body` with the fix;
 * - `text/plain` bodies read as JSON too: `fetch(url, {method: 'POST', body: JSON.stringify(x)})`
 *   sends that type, and Fastify's own text parser handed the routes a string ("expected
 *   object, received string"). No route here takes plain text.
 * Browsers can send both types cross-site without a preflight, but a browser request carries
 * an Origin and the front door demands the dashboard's own origin and token for those (the
 * sidecar refuses any Origin).
 * Scopes that take bodies raw (`/v1`, the orchestration forwarder) remove all parsers first.
 */
export function installJsonBodies(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  const parse = (req: FastifyRequest, text: string, done: (err: Error | null, body?: unknown) => void, how: string): void => {
    const encoded = encodedBodyError(req.headers['content-encoding']);
    if (encoded) return done(encoded);
    json(req, text, (err, value) => {
      if (err) return done(explain(err, text, how));
      if (nestsDeeperThan(value)) return done(new AppError(400, 'invalid_request', `body: JSON nested deeper than ${MAX_JSON_DEPTH} levels is not accepted`, { field: 'body' }));
      done(null, value);
    });
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => parse(req, body as string, done, ''));
  for (const type of [FORM, TEXT]) {
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
    app.addContentTypeParser(type, { parseAs: 'string' }, (req, body, done) => {
      const text = body as string;
      if (text.trim() === '') return done(null, undefined);
      parse(req, text, done, type);
    });
  }
}

/**
 * A compressed request body (`Content-Encoding` other than identity) is a 415 naming the header:
 * read as text, its bytes would be reported as "malformed JSON" the client never wrote. Used by
 * every JSON parser here (the daemon's API, the sidecar, the gateway's `/v1` paths).
 */
export function encodedBodyError(encoding: string | undefined): AppError | undefined {
  const e = encoding?.trim().toLowerCase();
  if (!e || e === 'identity') return undefined;
  return new AppError(415, 'unsupported_encoding', `headers.content-encoding: ${encoding} request bodies are not accepted; send the JSON body uncompressed`, { field: 'headers.content-encoding' });
}

/** The parser's error as the client should read it. */
function explain(err: Error, text: string, sentAs: string): Error {
  let valid = false;
  let why = err.message;
  try {
    JSON.parse(text);
    valid = text.trim() !== '';
  } catch (e) {
    // really malformed; the parser's own words (Fastify's say "content-type is set to
    // 'application/json'", which is wrong for a form-encoded body)
    why = (e as Error).message;
  }
  if (valid) {
    return new AppError(400, 'forbidden_key', 'body: keys named "__proto__", or "constructor" holding "prototype", are not accepted (they could rewrite object prototypes); rename them', { field: 'body' });
  }
  // an empty body: Fastify's own words say it ("Body cannot be empty …"), mapped to invalid_json
  if (text.trim() === '') return err;
  // the parser's words say where (`Expected double-quoted property name … at position 13`: a
  // trailing comma), where Fastify's say only that the content type was JSON
  if (!sentAs) return new AppError(400, 'invalid_json', `Malformed JSON body: ${why}`, { field: 'body' });
  return new AppError(400, 'invalid_json', `Malformed JSON body (sent as ${sentAs}; send JSON with Content-Type: application/json, e.g. curl -H 'Content-Type: application/json' -d '{...}'): ${why}`, { field: 'body' });
}
