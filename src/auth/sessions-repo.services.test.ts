import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { SessionsRepo } from './sessions-repo.js';

// SQLite always; PostgreSQL too when DATABASE_URL is set (the services suite in CI).
for (const dialect of testDialects()) {
  describe(`login sessions, on ${dialect}`, () => {
    let t: TestStore;
    let sessions: SessionsRepo;
    beforeAll(async () => {
      t = await openTestStore(dialect);
      sessions = new SessionsRepo(t.store);
    });
    afterAll(async () => {
      await t.cleanup();
    });
    const later = () => Date.now() + 60_000;

    it('a refresh token rotates once: two refreshes with it at once give one rotation, and the other revokes the session', async () => {
      const sid = await sessions.open('u_a', 'jti-1', later());
      const outcomes = await Promise.all([sessions.rotate(sid, 'u_a', 'jti-1', 'jti-2a', later()), sessions.rotate(sid, 'u_a', 'jti-1', 'jti-2b', later())]);
      expect(outcomes.sort()).toEqual(['reused', 'rotated']);
      expect(await sessions.active(sid, 'u_a')).toBe(false);
      expect(await sessions.rotate(sid, 'u_a', 'jti-2a', 'jti-3', later())).toBe('revoked');
    });

    it('the newest token rotates again; another user, an unknown session or an expired one do not', async () => {
      const sid = await sessions.open('u_b', 'b-1', later());
      expect(await sessions.rotate(sid, 'u_b', 'b-1', 'b-2', later())).toBe('rotated');
      expect(await sessions.rotate(sid, 'u_b', 'b-2', 'b-3', later())).toBe('rotated');
      expect(await sessions.rotate(sid, 'u_other', 'b-3', 'b-4', later())).toBe('unknown');
      expect(await sessions.active(sid, 'u_b')).toBe(true);
      expect(await sessions.rotate('s_nothing', 'u_b', 'x', 'y', later())).toBe('unknown');
      const old = await sessions.open('u_c', 'c-1', Date.now() + 30);
      await new Promise((r) => setTimeout(r, 60));
      expect(await sessions.rotate(old, 'u_c', 'c-1', 'c-2', later())).toBe('expired');
      expect(await sessions.revoke(sid)).toBe(true);
      expect(await sessions.revoke(sid)).toBe(false);
    });

    it('openOnce: of several at once, exactly one opens the session', async () => {
      const outcomes = await Promise.all([0, 1, 2, 3].map((i) => sessions.openOnce('legacy-x', 'u_d', `d-${i}`, later())));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });
  });
}
