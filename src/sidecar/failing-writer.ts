import { StoreWriter } from '../store/sql-writer.js';
import type { SqlWriter, WriteStep } from '../store/sql-writer.js';
import type { Store } from '../store/store.js';

/**
 * Tests: the store's writer, whose next `failures` transactions fail — `before` their commit
 * (nothing written, as a failed statement) or `after` it (written, yet reported failed, as a
 * write thread that dies before its answer).
 */
export function failingWriter(store: Store, when: 'before' | 'after'): SqlWriter & { failures: number } {
  const inner = new StoreWriter(store);
  return {
    kind: 'thread',
    failures: 0,
    async run(steps: readonly WriteStep[], opts?: { first?: boolean }) {
      const fail = this.failures > 0;
      if (fail) this.failures--;
      if (fail && when === 'before') throw new Error('disk I/O error');
      const rows = await inner.run(steps, opts);
      if (fail) throw new Error('sidecar store writer thread exited with code 1');
      return rows;
    },
    warm() {},
    close: () => inner.close(),
  };
}
