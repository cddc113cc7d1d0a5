import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

/** A TCP relay between a client and a service (Redis, PostgreSQL) whose link a test can break. */
export interface TcpRelay {
  /** The service's URL with the relay's address in place of the service's host and port. */
  url: string;
  /** Drops every connection and refuses new ones (the service restarting, a network down). */
  down(): void;
  /** Back to relaying (new connections; swallowed ones stay dead). */
  up(): void;
  /** Live connections stop forwarding, new ones are accepted and never answered (a dropped NAT entry, a proxy whose backend went away). */
  swallow(): void;
  /** Resets the live connections (a failover, a proxy restarting); new ones are relayed. */
  cut(): void;
  close(): Promise<void>;
}

export async function tcpRelay(serviceUrl: string): Promise<TcpRelay> {
  const target = new URL(serviceUrl);
  const defaultPort = target.protocol.startsWith('postgres') ? 5432 : 6379;
  const open = new Set<Socket>();
  let refusing = false;
  let swallowing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    open.add(client);
    client.on('error', () => undefined).on('close', () => open.delete(client));
    if (swallowing) return void client.resume(); // read and drop
    const upstream = connect(Number(target.port || defaultPort), target.hostname);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop).on('close', () => {
      open.delete(upstream);
      drop();
    });
    client.on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(serviceUrl);
  url.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: url.toString(),
    down() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    up() {
      refusing = false;
      swallowing = false;
    },
    swallow() {
      swallowing = true;
      for (const s of open) {
        s.unpipe();
        s.removeAllListeners('data');
        s.resume();
      }
    },
    cut() {
      for (const s of open) s.resetAndDestroy();
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
