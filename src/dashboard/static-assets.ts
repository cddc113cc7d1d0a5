import type { send as sendFn } from '@fastify/send';
import type { FastifyInstance } from 'fastify';

type Send = typeof sendFn;
let sendModule: Promise<Send> | undefined;

/**
 * Serves the Vite-built assets under `/assets/*` with @fastify/send (ranges, ETag, Last-Modified,
 * conditional GET, dotfiles refused, no path escaping its root). Why not @fastify/static: it loads
 * glob, send and the mime database when the daemon starts (~25 ms of every cold start) although
 * most daemons never serve a page; here send loads on the first asset request.
 */
export function registerStaticAssets(app: FastifyInstance, root: string): void {
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const rel = req.params['*'];
    // Vite emits flat, content-hashed names; anything else is not ours to serve.
    if (!/^[\w.-]+$/.test(rel) || rel.startsWith('.')) return reply.callNotFound();
    sendModule ??= import('@fastify/send').then((m) => m.send);
    const send = await sendModule;
    const result = await send(req.raw, `/${rel}`, { root, dotfiles: 'deny', index: false, maxAge: '365d', immutable: true });
    if (result.type !== 'file') {
      if (result.type === 'error' && (result.metadata.error as { status?: number }).status !== 404) return reply.status(result.statusCode).send({ error: { code: 'asset_error', message: result.metadata.error.message } });
      return reply.callNotFound();
    }
    return reply.status(result.statusCode).headers(result.headers as Record<string, string>).send(result.stream);
  });
}
