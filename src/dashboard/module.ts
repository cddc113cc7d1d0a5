import type { DaemonModule, ModuleContext } from '../server/module.js';

/**
 * Serves the dashboard (web/dist) at `/` and the web terminal at `/terminal`.
 * (Placeholder until the dashboard lands.)
 */
export async function createDashboardModule(ctx: ModuleContext): Promise<DaemonModule> {
  return {
    name: 'dashboard',
    register(app) {
      app.get('/', async (_req, reply) =>
        reply.type('text/html').send(`<!doctype html><title>CCO</title><p>CCO daemon ${ctx.version} is running.</p>`),
      );
    },
  };
}
