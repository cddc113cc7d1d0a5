import type { FastifyInstance } from 'fastify';

/** How long a stop waits for requests in flight before it cuts them (`cco daemon stop` kills at 10 s). */
export const CLOSE_GRACE_MS = 5000;

/**
 * Closes an app without cutting the requests it is answering. Fastify's `forceCloseConnections:
 * true` destroyed every socket at once: a result being stored was committed and its 201 lost
 * (the client could not know it was kept), a gateway call in flight ended as an empty reply. Now:
 * new requests get 503, idle keep-alive connections close (again every 50 ms, as answers
 * finish), and whatever still runs after `graceMs` is cut. Open-ended answers (long-polls, event
 * streams, MCP sessions) are ended by their modules first (`DaemonModule.stopping`): nothing
 * here looks at requests one by one, which cost the hot paths an allocation per request.
 */
export async function closeGracefully(app: FastifyInstance, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}
