import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { Knowledge } from './knowledge.js';
import type { KnowledgeEntry } from './knowledge.js';
import { searchParity } from './knowledge-parity.js';

if (process.env.DATABASE_URL) {
  describe('knowledge index on PostgreSQL, several daemons', () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await openTestStore('postgres');
    });
    afterAll(async () => {
      await t.cleanup();
    });

    it('finds file names, hosts, addresses and versions by their words, as on SQLite; a NUL in a text is no error', () => searchParity('postgres'));

    it('two daemons replacing the same result’s entries at once leave them once', async () => {
      // two daemons = two Knowledge writers on their own pooled connections, one database
      const a = new Knowledge(t.store, { delayMs: 1 });
      const b = new Knowledge(t.store, { delayMs: 1 });
      const entries: KnowledgeEntry[] = [
        { kind: 'decision', content: 'Use advisory locks for the index' },
        { kind: 'result', content: 'Indexed by two daemons' },
      ];
      for (let round = 0; round < 10; round++) {
        const item = { id: 7, issueId: 'race-1', agentType: 'python-specialist', storedAt: 1000 + round, entries };
        a.index(item);
        b.index(item);
        await Promise.all([a.flush(), b.flush()]);
        expect(a.lastError).toBeUndefined();
        expect(b.lastError).toBeUndefined();
        const r = await sql<{ n: number }>`select count(*)::int as n from sidecar_knowledge where issue_id = 'race-1' and agent_type = 'python-specialist'`.execute(t.store.db);
        expect(r.rows[0]?.n).toBe(entries.length);
      }
    });
  });
} else {
  describe('knowledge index on PostgreSQL', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
}
