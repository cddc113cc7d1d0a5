import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** How long a stop waits for requests in flight before it cuts them (`cco daemon stop` kills at 10 s). */
export const CLOSE_GRACE_MS = 5000;

const inFlight = new WeakMap<FastifyInstance, Set<ServerResponse>>();

/**
 * Remembers the app's responses in flight (every request of its server, the gateway's lean /v1
 * path included), for `closeGracefully`. Call once, after the app is built.
 */
export function trackResponses(app: FastifyInstance): void {
  const active = new Set<ServerResponse>();
  inFlight.set(app, active);
  app.server.on('request', (_req, res: ServerResponse) => {
    active.add(res);
    res.once('close', () => active.delete(res));
  });
}

/**
 * Closes an app without cutting the requests it is answering. Fastify's `forceCloseConnections:
 * true` destroyed every socket at once: a result being stored was committed and its 201 lost
 * (the client could not know it was kept), a gateway call in flight ended as an empty reply. Now:
 * new requests get 503, idle keep-alive connections close (again every 50 ms, as answers finish),
 * open-ended streams (event streams other than the gateway's /v1 answers: MCP, subscriptions)
 * end at once, and whatever is still running after `graceMs` is cut.
 */
export async function closeGracefully(app: FastifyInstance, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const active = inFlight.get(app);
  const sweep = setInterval(() => {
    app.server.closeIdleConnections();
    for (const res of active ?? []) if (isOpenEndedStream(res)) res.destroy();
  }, 50);
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}

function isOpenEndedStream(res: ServerResponse): boolean {
  if ((res.req?.url ?? '').startsWith('/v1/')) return false;
  // headers given to writeHead() directly are only in the head already written
  const type = res.getHeader('content-type') ?? (res as { _header?: string | null })._header?.match(/^content-type:\s*([^\r\n]*)/im)?.[1];
  return String(type ?? '').startsWith('text/event-stream');
}
