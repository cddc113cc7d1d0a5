import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonModule, ModuleContext } from '../server/module.js';
import { AppError } from '../core/errors.js';
import { LoginCodes } from './login-codes.js';
import { registerStaticAssets } from './static-assets.js';
import { registerTerminal, terminalRefusal } from './terminal.js';
import { handleTokenLogin, page, requestHasToken } from './token-cookie.js';
import { isWebBuilt, resolveWebRoot } from './web-root.js';

/**
 * Serves the dashboard (the SPA built into `web/dist`) at `/`, turns `/?token=` into the
 * HttpOnly `cco_token_<port>` cookie the page and its WebSockets run on, tells the page whether it is
 * signed in (`GET /api/dashboard/session`), and hosts the web terminal at `/terminal`.
 */
/** The daemon routes the page reads; the session tells it which exist so it never asks for a missing one. */
const PAGE_ROUTES: readonly (readonly ['GET' | 'POST', string])[] = [
  ['GET', '/api/status'],
  ['GET', '/api/sessions'],
  ['GET', '/api/cache/stats'],
  ['GET', '/api/cache/top-items'],
  ['POST', '/api/cache/clear'],
  ['GET', '/api/project/stats'],
  ['GET', '/api/machine/stats'],
  ['GET', '/api/debug/requests'],
  ['POST', '/api/requirements'],
  ['GET', '/api/tasks'],
  ['GET', '/api/agents'],
  ['GET', '/api/sidecar/agents'],
];

export async function createDashboardModule(ctx: ModuleContext): Promise<DaemonModule> {
  const cfg = ctx.config.dashboard;
  const root = resolveWebRoot(cfg.web_root);
  let terminal: ReturnType<typeof registerTerminal> | undefined;
  // Tells a reconnecting page whether this is still the daemon it knew (resume) or a new one (start over).
  const boot = ctx.hub.boot;
  const codes = new LoginCodes();
  const terminalOpts = { enabled: cfg.terminal_enabled, host: ctx.config.daemon.host };
  return {
    name: 'dashboard',
    async register(app) {
      if (!cfg.enabled) return;
      const built = isWebBuilt(root);
      // index.html is small and changes with each build: read once, never cached by the browser.
      const index = built ? readFileSync(join(root, 'index.html'), 'utf8') : undefined;
      const sendIndex = async (req: Parameters<typeof handleTokenLogin>[0], reply: Parameters<typeof handleTokenLogin>[1]) => {
        if (handleTokenLogin(req, reply, ctx.accessToken, codes)) return reply;
        if (!index) {
          return reply
            .status(503)
            .type('text/html; charset=utf-8')
            .send(page('Dashboard not built', 'This installation has no built dashboard (<code>web/dist</code>). Run <code>npm run build:web</code> and restart the daemon.'));
        }
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('content-security-policy', "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
          .header('x-content-type-options', 'nosniff')
          .send(index);
      };
      app.get('/', sendIndex);
      app.get('/index.html', sendIndex);
      // Vite names assets by content hash, so they can be cached for good.
      if (built) registerStaticAssets(app, join(root, 'assets'), index);
      app.get('/favicon.ico', async (_req, reply) => reply.status(204).send());
      // `cco dashboard`'s sign-in link: a code good once, for 5 minutes (the token stays out of the browser's history)
      app.post('/api/dashboard/login-code', async (req, reply) => {
        if (!requestHasToken(req, ctx.accessToken)) throw new AppError(401, 'unauthorized', 'A sign-in code needs the access token (X-CCO-Token); `cco dashboard` sends it');
        const { code, expiresInS } = codes.issue();
        return reply.header('cache-control', 'no-store').send({ code, path: `/?code=${code}`, expires_in_s: expiresInS });
      });
      app.get('/api/dashboard/session', async (req) => {
        const why = terminalRefusal(terminalOpts);
        return {
          authenticated: requestHasToken(req, ctx.accessToken),
          version: ctx.version,
          boot,
          routes: PAGE_ROUTES.filter(([method, url]) => app.hasRoute({ method, url })).map(([method, url]) => `${method} ${url}`),
          terminal: { enabled: !why, ...(why ? { reason: why } : {}) },
        };
      });
      terminal = registerTerminal(app, {
        ...terminalOpts,
        accessToken: ctx.accessToken,
        shell: cfg.terminal_shell,
        maxSessions: cfg.terminal_max_sessions,
        env: ctx.env,
        logger: ctx.logger.child({ module: 'terminal' }),
      });
    },
    health: () => {
      if (!cfg.enabled) return { status: 'disabled' };
      const why = terminalRefusal(terminalOpts);
      return { status: 'ok', web_built: isWebBuilt(root), terminal: why ? 'disabled' : 'enabled', terminals_open: terminal?.count() ?? 0 };
    },
    async close() {
      terminal?.close();
    },
  };
}
