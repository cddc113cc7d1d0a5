import { describe, expect, it } from 'vitest';
import { openTestStore } from '../testing/test-store.js';
import { AgentsRepo } from './agents-repo.js';
import { failingWriter } from './failing-writer.js';

describe('AgentsRepo after a failed write', () => {
  it.each([true, false])('records the agent and its status on the next try (memory %s)', async (memory) => {
    const t = await openTestStore('sqlite');
    try {
      const writer = failingWriter(t.store, 'before');
      const agents = new AgentsRepo(t.store, { memory, writer });
      await agents.load();
      const claims = { agentId: 'tester-1', agentType: 'tester', issues: ['issue-1'], exp: Math.floor(Date.now() / 1000) + 3600 };
      writer.failures = 1;
      await expect(agents.touch(claims as never)).rejects.toThrow(/disk/);
      await agents.touch(claims as never);
      const row = () => t.store.db.selectFrom('sidecar_agents').select(['agent_id', 'status']).where('agent_id', '=', 'tester-1').executeTakeFirst();
      expect(await row()).toEqual({ agent_id: 'tester-1', status: 'active' });
      writer.failures = 1;
      await expect(agents.setStatus('tester-1', 'success')).rejects.toThrow(/disk/);
      expect((await row())?.status).toBe('active');
      await agents.setStatus('tester-1', 'success');
      expect((await row())?.status).toBe('completed');
      expect(await agents.stats()).toMatchObject({ active: 0, completed: 1 });
    } finally {
      await t.cleanup();
    }
  });
});
