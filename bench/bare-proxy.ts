/**
 * The floor of the gateway benchmark: a proxy that does nothing but proxy, on the same stack
 * (node:http in, undici out through `dispatch`, chunks relayed as they arrive). No validation,
 * routing, cache, analytics, metrics or retries. `bench/gateway.bench.ts` runs it as a separate
 * process beside `cco proxy`: what it adds to the direct path at the same load is what any Node
 * proxy pays on this machine, and its saturation ratio is a ceiling for the gateway's.
 *
 * `node-http` as the second argument sends upstream with node:http's own client (keep-alive
 * Agent) instead of undici: the cheapest HTTP client Node has here (see `bench/tcp-relay.ts` for
 * a proxy without HTTP at all).
 *
 * Usage: node --import tsx bench/bare-proxy.ts <upstream origin> [undici|node-http]; prints
 * "Listening on <url>".
 */
import { Agent, createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.ts <upstream origin> [undici|node-http]');
const client = process.argv[3] ?? 'undici';
if (client !== 'undici' && client !== 'node-http') throw new Error(`unknown client ${client}: undici or node-http`);
const pool = new Pool(upstream, { connections: 512, pipelining: 1 });
const origin = new URL(upstream);
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

/** The same relay through node:http's client. */
function viaNodeHttp(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, body: Buffer): void {
  const up = request({ host: origin.hostname, port: origin.port, path: req.url ?? '/', method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent }, (r) => {
    res.writeHead(r.statusCode ?? 502, { 'content-type': String(r.headers['content-type'] ?? 'application/octet-stream') });
    r.on('data', (c: Buffer) => {
      if (!res.write(c)) {
        r.pause();
        res.once('drain', () => r.resume());
      }
    });
    r.on('end', () => res.end());
  });
  res.once('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(e.message);
  });
  up.end(body);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'x-api-key', 'authorization', 'anthropic-version']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    if (client === 'node-http') return viaNodeHttp(req, res, headers, Buffer.concat(chunks));
    pool.dispatch(
      { path: req.url ?? '/', method: 'POST', headers, body: Buffer.concat(chunks) },
      {
        // (undici takes a handler for its current API only when it has onRequestStart)
        onRequestStart(c) {
          // A client that leaves stops the upstream too (also one paused, waiting for a drain).
          res.once('close', () => {
            if (!res.writableFinished) c.abort(new Error('client closed'));
          });
        },
        onResponseStart(_c, status, h) {
          res.writeHead(status, { 'content-type': String(h['content-type'] ?? 'application/octet-stream') });
        },
        onResponseData(c, chunk) {
          if (!res.write(chunk)) {
            c.pause();
            res.once('drain', () => c.resume());
          }
        },
        onResponseEnd() {
          res.end();
        },
        onResponseError(_c, e) {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(e.message);
        },
      },
    );
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => process.exit(0));
