import type { FastifyInstance } from 'fastify';

/** How long a stop waits for requests in flight before it cuts them (`cco daemon stop` kills at 10 s). */
export const CLOSE_GRACE_MS = 5000;

/** Between `beforeCut` (requests still running are answered that the server stops) and the cut: time for those answers to leave. */
export const CUT_WAIT_MS = 250;

/**
 * Closes an app without cutting the requests it is answering. Fastify's `forceCloseConnections:
 * true` destroyed every socket at once: a result being stored was committed and its 201 lost
 * (the client could not know it was kept), a gateway call in flight ended as an empty reply. Now:
 * new requests get 503, idle keep-alive connections close (again every 50 ms, as answers
 * finish), and whatever still runs after `graceMs` is cut. Open-ended answers (long-polls, event
 * streams, MCP sessions) are ended by their modules first (`DaemonModule.stopping`): nothing
 * here looks at requests one by one, which cost the hot paths an allocation per request.
 */
export async function closeGracefully(app: FastifyInstance, graceMs = CLOSE_GRACE_MS, opts: { beforeCut?: () => void } = {}): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  let cut: NodeJS.Timeout | undefined;
  // what still runs when the grace is over is first told so (a gateway call gets its 503 or its
  // stream's error event, where a cut connection read as the client's own disconnect), then cut
  const force = setTimeout(() => {
    try {
      opts.beforeCut?.();
    } catch {
      // a part that could not answer its requests: they are cut all the same
    }
    cut = setTimeout(() => app.server.closeAllConnections(), opts.beforeCut ? CUT_WAIT_MS : 0);
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
    clearTimeout(cut);
  }
}
