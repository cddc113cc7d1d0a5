import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookEventsRepo } from './repos/hook-events.js';
import type { Dialect } from './store.js';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';

/** The store behaviour every dialect must show; run for SQLite and PostgreSQL. */
export function storeContract(dialect: Dialect): void {
  describe(`store on ${dialect}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await openTestStore(dialect);
    });
    afterAll(async () => {
      await t.cleanup();
    });

    it('answers a ping and reports its dialect', async () => {
      await t.store.ping();
      expect(t.store.dialect).toBe(dialect);
    });

    it('stores hook events with increasing ids and lists them by session', async () => {
      const repo = new HookEventsRepo(t.store);
      const base = { received_at: Date.now(), event: 'PreToolUse', tool_name: 'Bash', tool_use_id: null, agent_id: null, agent_type: null, cwd: '/x', decision: 'allow', payload: '{}' };
      const a = await repo.insert({ ...base, session_id: 's1' });
      const b = await repo.insert({ ...base, session_id: 's1', event: 'PostToolUse' });
      await repo.insert({ ...base, session_id: 's2' });
      expect(b).toBeGreaterThan(a);
      const rows = await repo.list({ sessionId: 's1' });
      expect(rows.map((r) => r.event)).toEqual(['PreToolUse', 'PostToolUse']);
      expect(typeof rows[0]?.received_at).toBe('number');
      const after = await repo.list({ sessionId: 's1', afterId: a });
      expect(after).toHaveLength(1);
      const sessions = await repo.sessions();
      expect(sessions.find((s) => s.session_id === 's1')?.events).toBe(2);
    });

    it('is idempotent to migrate twice', async () => {
      const { migrateToLatest } = await import('./store.js');
      await migrateToLatest(t.store.db, t.store.dialect);
    });
  });
}
