import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { FastHistogram, Observer } from '../../server/fast-histogram.js';
import { hostName, isLoopback } from '../../server/security.js';
import { errorBody } from '../proxy/errors.js';
import type { ClientFormat } from '../proxy/errors.js';
import type { GatewayCore } from '../proxy/gateway-core.js';
import type { Endpoint } from '../proxy/inbound.js';
import { V1_BODY_ERRORS, V1_BODY_LIMIT, parseV1Body } from './v1-routes.js';

/** The hot provider routes served by the lean handler (exact paths; a query string is kept). */
const ROUTES: Record<string, { format: ClientFormat; endpoint: Endpoint }> = {
  '/v1/messages': { format: 'anthropic', endpoint: 'messages' },
  '/v1/messages/count_tokens': { format: 'anthropic', endpoint: 'count_tokens' },
  '/v1/chat/completions': { format: 'openai', endpoint: 'chat_completions' },
};

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves `POST /v1/messages`, `/v1/messages/count_tokens` and `/v1/chat/completions` straight
 * from Node's HTTP server, ahead of Fastify.
 *
 * Why: at saturation the gateway's CPU per request decides its throughput, and the generic
 * Fastify request path (routing, hooks, content-type parser, reply, per-route metrics hooks)
 * cost about as much as the proxying itself. The hot routes need none of it: the core already
 * writes to the raw response (it hijacks the reply on the Fastify route too).
 *
 * What stays the same: only requests the shared security layer would wave through unchanged are
 * taken here — a loopback Host header, no Origin (not a browser), no Upgrade — and only while the
 * server is listening. Anything else (a browser origin, team mode's non-loopback Host, other
 * methods, a missing content-type, shutdown) goes to Fastify, whose routes for the same paths
 * stay registered, with all its checks. Team mode's access token is checked by the core itself
 * (`clientAuth`) on both paths. Bodies are read with the same 32 MB limit and errors are the same
 * 4xx JSON in the client's own shape; `http_request_duration_seconds` is still observed.
 */
export function installLeanV1(server: Server, core: GatewayCore, metrics: Registry | undefined): void {
  const listeners = server.listeners('request') as Listener[];
  // Fastify registers exactly one request listener; anything else is not a layout we know.
  if (listeners.length !== 1) return;
  const fastify = listeners[0] as Listener;
  const histogram = metrics?.getSingleMetric('http_request_duration_seconds') as unknown as FastHistogram<'method' | 'route' | 'status_code'> | undefined;
  const observers = new Map<string, Observer>();
  const observe = (route: string, status: number, startedAt: number) => {
    if (!histogram) return;
    const k = `${route} ${status}`;
    let o = observers.get(k);
    if (!o) {
      o = histogram.labels({ method: 'POST', route, status_code: String(status) });
      observers.set(k, o);
    }
    o.observe((performance.now() - startedAt) / 1000);
  };

  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = req.method === 'POST' ? ROUTES[path] : undefined;
    const h = req.headers;
    if (!route || !server.listening || h.origin !== undefined || h.upgrade !== undefined || !h['content-type'] || !isLoopback(hostName(h.host))) {
      fastify.call(server, req, res);
      return;
    }
    const startedAt = performance.now();
    const receivedAt = Date.now();
    readBody(req, (err, raw) => {
      if (err) {
        // The client may still be sending: answer and close, as Fastify does.
        reply(res, route.format, err.status, err.message, err.code, true);
        observe(path, err.status, startedAt);
        return;
      }
      const parsed = parseV1Body(raw, h['content-encoding']);
      if ('error' in parsed) {
        const e = parsed.error;
        reply(res, route.format, e.status, e.message, e.code, false, e.field);
        observe(path, e.status, startedAt);
        return;
      }
      const json = parsed.json;
      if (!json || typeof json !== 'object' || Array.isArray(json)) {
        reply(res, route.format, 400, V1_BODY_ERRORS.notAnObject, 'invalid_request', false, 'body');
        observe(path, 400, startedAt);
        return;
      }
      void core
        .handle({ id: randomUUID(), clientFormat: route.format, endpoint: route.endpoint, query: q >= 0 ? url.slice(q) : '', headers: h, raw: parsed.raw, body: json as Record<string, unknown>, receivedAt }, res)
        .then(
          () => observe(path, res.statusCode, startedAt),
          // The core answers its own failures; this only guards what throws before it can (an
          // unhandled rejection would end the process). No message: it could carry request data.
          () => {
            reply(res, route.format, 500, 'internal error', 'internal_error', false);
            observe(path, 500, startedAt);
          },
        );
    });
  });
}

interface BodyError {
  status: number;
  message: string;
  code: string;
}

const TOO_LARGE: BodyError = V1_BODY_ERRORS.tooLarge;

/** Reads the whole body (at most V1_BODY_LIMIT bytes) as one Buffer. */
function readBody(req: IncomingMessage, done: (err: BodyError | undefined, raw: Buffer) => void): void {
  const declared = Number(req.headers['content-length']);
  if (declared > V1_BODY_LIMIT) {
    done(TOO_LARGE, Buffer.alloc(0));
    return;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  const onData = (c: Buffer) => {
    length += c.length;
    if (length > V1_BODY_LIMIT) {
      cleanup();
      done(TOO_LARGE, Buffer.alloc(0));
      return;
    }
    chunks.push(c);
  };
  const onEnd = () => {
    cleanup();
    // (Node's HTTP parser already holds the body to its Content-Length.)
    done(undefined, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
  };
  const onError = (e: Error) => {
    cleanup();
    done({ status: 400, message: `body: ${e.message}`, code: 'invalid_request' }, Buffer.alloc(0));
  };
  const cleanup = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

function reply(res: ServerResponse, format: ClientFormat, status: number, message: string, code: string, close: boolean, field?: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(errorBody(format, status, message, code, field));
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
