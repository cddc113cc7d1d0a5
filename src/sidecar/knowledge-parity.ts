import { expect } from 'vitest';
import type { Dialect } from '../store/store.js';
import { openTestStore } from '../testing/test-store.js';
import { Knowledge } from './knowledge.js';

/**
 * Tests: the same documents and queries on either store, with the hits each query must find
 * (knowledge.test.ts runs it on SQLite, knowledge.services.test.ts on PostgreSQL).
 */
export async function searchParity(dialect: Dialect): Promise<void> {
  const docs: [string, string][] = [
    ['k-1', 'The frontend runs on node.js behind nginx'],
    ['k-2', 'Send alerts to bob@example.com when a deploy fails'],
    ['k-3', 'Added tests in test_users and changed users.py'],
    ['k-4', 'Pinned requests to v1.2.3 after the 2.31.0 regression'],
    // a NUL inside a decision (PostgreSQL text cannot hold one: it failed the whole batch)
    ['k-5', 'kubernetes \u0000 manifests moved to deploy/'],
  ];
  const queries: [string, string[]][] = [
    ['users.py', ['k-3']],
    ['users', ['k-3']],
    ['node', ['k-1']],
    ['nginx', ['k-1']],
    ['bob', ['k-2']],
    ['example.com', ['k-2']],
    ['v1.2.3', ['k-4']],
    ['kubernetes', ['k-5']],
    ['manifests', ['k-5']],
  ];
  const t = await openTestStore(dialect);
  try {
    const k = new Knowledge(t.store, { delayMs: 1 });
    docs.forEach(([issue, content], i) => k.index({ id: i + 1, issueId: issue, agentType: 'python-specialist', storedAt: 1000 + i, entries: [{ kind: 'decision', content }] }));
    await k.flush();
    expect(k.lastError).toBeUndefined();
    for (const [q, want] of queries) {
      const hits = await k.search({ q, issues: '*' });
      expect([...new Set(hits.map((h) => h.issue_id))].sort(), `${dialect}: ${q}`).toEqual(want);
    }
  } finally {
    await t.cleanup();
  }
}
