/**
 * The cheapest proxy there is: bytes relayed between two TCP sockets, no HTTP parsed at all (each
 * client connection gets an upstream connection of its own). It cannot route, cache or count
 * anything; `bench/gateway.bench.ts` runs it to show what relaying alone costs on this machine,
 * beside the bare HTTP proxies (`bench/bare-proxy.ts`) and the gateway.
 *
 * Usage: node --import tsx bench/tcp-relay.ts <upstream origin>; prints "Listening on <url>".
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: tcp-relay.ts <upstream origin>');
const { hostname, port } = new URL(upstream);

const server = createServer((c) => {
  c.setNoDelay(true);
  const up = connect(Number(port), hostname);
  up.setNoDelay(true);
  c.pipe(up);
  up.pipe(c);
  c.on('error', () => up.destroy());
  up.on('error', () => c.destroy());
  c.on('close', () => up.destroy());
  up.on('close', () => c.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => process.exit(0));
