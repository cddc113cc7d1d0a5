/**
 * The floor of the gateway benchmark: a proxy that does nothing but proxy, on the same stack
 * (node:http in, undici out through `dispatch`, chunks relayed as they arrive). No validation,
 * routing, cache, analytics, metrics or retries. `bench/gateway.bench.ts` runs it as a separate
 * process beside `cco proxy`: what it adds to the direct path at the same load is what any Node
 * proxy pays on this machine, and its saturation ratio is a ceiling for the gateway's.
 *
 * Usage: node --import tsx bench/bare-proxy.ts <upstream origin>; prints "Listening on <url>".
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.ts <upstream origin>');
const pool = new Pool(upstream, { connections: 512, pipelining: 1 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'x-api-key', 'authorization', 'anthropic-version']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
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
