import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * Reads a form-encoded body as JSON.
 *
 * Why: `curl -d '{"older_than_days": 90}' URL` — the way the guides and users write it — sends
 * `Content-Type: application/x-www-form-urlencoded`, and Fastify would answer 415. No route here
 * takes real forms, so the body is read as the JSON it is; anything else is a 400 naming `body`
 * with the fix. Browsers can send this type cross-site without a preflight, but a browser request
 * carries an Origin and the front door demands the dashboard's own origin and token for those.
 * Scopes that take bodies raw (`/v1`, the orchestration forwarder) remove all parsers first.
 */
export function acceptCurlJson(app: FastifyInstance): void {
  // Fastify's own JSON parser: `__proto__` and `constructor.prototype` keys are refused as for JSON bodies.
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    json(req, text, (err, value) => {
      if (!err) return done(null, value);
      done(new AppError(400, 'invalid_json', `Malformed JSON body (sent as ${FORM}; JSON is expected, e.g. curl -H 'Content-Type: application/json' -d '{...}'): ${err.message}`, { field: 'body' }), undefined);
    });
  });
}
