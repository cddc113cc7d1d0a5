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

describe('AgentsRepo.tasksOf', () => {
  it("gives an issue's spawn tasks once each, newest first", async () => {
    const t = await openTestStore('sqlite');
    try {
      const agents = new AgentsRepo(t.store);
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const spawn = (id: string, task: string, issue = 'issue-1') => agents.register({ agentId: id, agentType: 'tester', issues: [issue], exp }, task);
      await spawn('a', 'Fix response cache key collisions');
      await spawn('b', 'Fix response cache key collisions');
      await spawn('c', 'Fix response cache key collisions');
      await spawn('d', 'Add a regression test');
      await spawn('e', 'Other issue work', 'issue-2');
      expect((await agents.tasksOf('issue-1')).sort()).toEqual(['Add a regression test', 'Fix response cache key collisions']);
    } finally {
      await t.cleanup();
    }
  });
});
