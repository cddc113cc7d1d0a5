import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openTestStore } from '../testing/test-store.js';
import { failingWriter } from './failing-writer.js';
import { Knowledge } from './knowledge.js';
import { searchParity } from './knowledge-parity.js';

describe('knowledge search', () => {
  it('finds file names, hosts, addresses and versions by their words; a NUL in a text is no error (SQLite)', () => searchParity('sqlite'));
});

describe('knowledge index: a batch the store did not take', () => {
  it('is tried again while the daemon runs (a search finds it without a restart); a newer version given meanwhile wins', async () => {
    const t = await openTestStore('sqlite');
    try {
      const writer = failingWriter(t.store, 'before');
      const k = new Knowledge(t.store, { writer, delayMs: 1 });
      writer.failures = 1;
      k.index({ id: 1, issueId: 'issue-1', agentType: 'python-specialist', storedAt: 1, entries: [{ kind: 'decision', content: 'Use pgbouncer for pooling' }] });
      await k.flush();
      expect(k.lastError).toBe('disk I/O error');
      // before: dropped until the next start re-indexed it; now written again a second later, on its own
      await new Promise((r) => setTimeout(r, 1200));
      const rows = await sql<{ n: number }>`select count(*) as n from sidecar_knowledge`.execute(t.store.db);
      expect(Number(rows.rows[0]?.n)).toBe(1);
      expect((await k.search({ q: 'pgbouncer', issues: '*' })).map((h) => h.content)).toEqual(['Use pgbouncer for pooling']);
      expect(k.lastError).toBeUndefined();

      // a failed version, then a newer one of the same result before the retry: the newer stays
      writer.failures = 1;
      k.index({ id: 2, issueId: 'issue-2', agentType: 'test-engineer', storedAt: 1, entries: [{ kind: 'decision', content: 'Run the suite nightly' }] });
      await k.flush();
      k.index({ id: 2, issueId: 'issue-2', agentType: 'test-engineer', storedAt: 2, entries: [{ kind: 'decision', content: 'Run the suite hourly' }] });
      await k.flush();
      await new Promise((r) => setTimeout(r, 1200));
      expect((await k.search({ q: 'suite', issues: '*' })).map((h) => h.content)).toEqual(['Run the suite hourly']);
    } finally {
      await t.cleanup();
    }
  });
});
