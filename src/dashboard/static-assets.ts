import type { send as sendFn } from '@fastify/send';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

type Send = typeof sendFn;
let sendModule: Promise<Send> | undefined;

/**
 * Serves the Vite-built assets under `/assets/*` with @fastify/send (ranges, ETag, Last-Modified,
 * conditional GET, dotfiles refused, no path escaping its root). Why not @fastify/static: it loads
 * glob, send and the mime database when the daemon starts (~25 ms of every cold start) although
 * most daemons never serve a page; here send loads on the first asset request.
 */
export function registerStaticAssets(app: FastifyInstance, root: string, index?: string): void {
  const serve = async (req: FastifyRequest, reply: FastifyReply, rel: string, cache: { maxAge: string; immutable: boolean }) => {
    // Vite emits flat, content-hashed names; anything else is not ours to serve.
    if (!/^[\w.-]+$/.test(rel) || rel.startsWith('.')) return reply.callNotFound();
    sendModule ??= import('@fastify/send').then((m) => m.send);
    const send = await sendModule;
    const result = await send(req.raw, `/${rel}`, { root, dotfiles: 'deny', index: false, ...cache });
    if (result.type !== 'file') {
      if (result.type === 'error' && (result.metadata.error as { status?: number }).status !== 404) return reply.status(result.statusCode).send({ error: { code: 'asset_error', message: result.metadata.error.message } });
      return reply.callNotFound();
    }
    return reply.status(result.statusCode).headers(result.headers as Record<string, string>).send(result.stream);
  };
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => serve(req, reply, req.params['*'], { maxAge: '365d', immutable: true }));
  // The seed's check for a dashboard's assets (`GET /styles.css`, `GET /script.js`, its "404 Not
  // Found on Dashboard Assets"): the page's own stylesheet and script, under those names too.
  for (const [path, ext] of [['/styles.css', 'css'], ['/script.js', 'js']] as const) {
    const rel = index ? mainAsset(index, ext) : undefined;
    if (rel) app.get(path, async (req, reply) => serve(req, reply, rel, { maxAge: '0', immutable: false }));
  }
}

/** The file name (under /assets/) of the page's own stylesheet or script, as index.html links it. */
export function mainAsset(index: string, ext: 'css' | 'js'): string | undefined {
  const re = ext === 'css' ? /<link[^>]+rel="stylesheet"[^>]+href="\/assets\/([\w.-]+\.css)"/ : /<script[^>]+src="\/assets\/([\w.-]+\.js)"/;
  return re.exec(index)?.[1];
}
