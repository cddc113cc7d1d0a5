import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { UsersRepo } from './users-repo.js';

// SQLite always; PostgreSQL too when DATABASE_URL is set (the services suite in CI).
for (const dialect of testDialects()) {
  describe(`the last admin, on ${dialect}`, () => {
    let t: TestStore;
    let users: UsersRepo;
    beforeAll(async () => {
      t = await openTestStore(dialect);
      users = new UsersRepo(t.store);
    });
    afterAll(async () => {
      await t.cleanup();
    });

    const admin = async (email: string): Promise<string> => {
      const u = await users.create({ email, passwordHash: 'x', role: 'admin' });
      if (!u) throw new Error(`could not create ${email}`);
      return u.id;
    };

    it('two admins demoting each other at once: one succeeds, one is refused, one admin is left', async () => {
      const a = await admin(`a-${dialect}@example.com`);
      const b = await admin(`b-${dialect}@example.com`);
      const outcomes = await Promise.all([users.changeGuardingLastAdmin(a, { role: 'user' }), users.changeGuardingLastAdmin(b, { role: 'user' })]);
      expect(outcomes.sort()).toEqual(['done', 'last_admin']);
      expect(await users.countAdmins()).toBe(1);
    });

    it('removing the last two admins at once leaves one; a user who is not an admin goes freely', async () => {
      const admins = (await users.list()).filter((u) => u.role === 'admin').map((u) => u.id);
      const c = await admin(`c-${dialect}@example.com`);
      const outcomes = await Promise.all([...admins, c].map((id) => users.changeGuardingLastAdmin(id, { remove: true })));
      expect(outcomes.filter((o) => o === 'done')).toHaveLength(admins.length);
      expect(outcomes.filter((o) => o === 'last_admin')).toHaveLength(1);
      expect(await users.countAdmins()).toBe(1);
      const plain = await users.create({ email: `d-${dialect}@example.com`, passwordHash: 'x', role: 'user' });
      expect(await users.changeGuardingLastAdmin(plain?.id as string, { remove: true })).toBe('done');
      expect(await users.changeGuardingLastAdmin('u_nobody', { remove: true })).toBe('not_found');
    });
  });
}
