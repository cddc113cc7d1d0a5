import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { defaultDaemonConfig } from '../config/daemon-config.js';
import { createLogger } from '../core/logger.js';
import { Hub } from '../hub/hub.js';
import type { ModuleContext } from '../server/module.js';
import { openTestStore } from '../testing/test-store.js';
import { createHooksModule } from './module.js';

describe("the session view a start rebuilds from the recorded hook events", () => {
  it('counts once the events that came after the daemon listened and before the replay (sessions going on across the restart)', async () => {
    const ts = await openTestStore('sqlite');
    const { logger } = createLogger({ level: 'silent' });
    const ctx = { config: defaultDaemonConfig(), store: ts.store, logger, hub: new Hub(), accessToken: 'x' } as unknown as ModuleContext;
    try {
      // the daemon before the restart: a session ran two tools
      const before = await createHooksModule(ctx);
      const first = Fastify();
      await before.register?.(first);
      await before.start?.();
      for (const ev of ['PreToolUse', 'PostToolUse', 'PreToolUse', 'PostToolUse']) await first.inject({ method: 'POST', url: `/api/hooks/${ev}`, payload: { session_id: 's1', tool_name: 'Read' } });
      await before.close?.();
      await first.close();
      // the new daemon listens (routes up): the session's next tool comes before the hooks module's start
      const after = await createHooksModule(ctx);
      const app = Fastify();
      await after.register?.(app);
      for (const ev of ['PreToolUse', 'PostToolUse', 'Stop']) await app.inject({ method: 'POST', url: `/api/hooks/${ev}`, payload: { session_id: 's1', tool_name: 'Bash' } });
      await after.start?.();
      const s = (await app.inject({ method: 'GET', url: '/api/sessions' })).json<{ live: { session_id: string; tools_run: number; status: string }[] }>().live.find((x) => x.session_id === 's1');
      // was: 4 (the live tool replayed on top of itself)
      expect(s).toMatchObject({ tools_run: 3 });
      await after.close?.();
      await app.close();
    } finally {
      await ts.cleanup();
    }
  });
});
