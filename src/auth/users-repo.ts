import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/store.js';
import type { UsersTable } from '../store/tables/auth.js';
import type { Role } from './jwt.js';

export type UserRow = Selectable<UsersTable>;

/** What the API shows of a user: never the hash. */
export interface UserView {
  id: string;
  email: string;
  role: Role;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

export const userView = (u: UserRow): UserView => ({
  id: u.id,
  email: u.email,
  role: u.role as Role,
  created_at: Number(u.created_at),
  updated_at: Number(u.updated_at),
  last_login_at: u.last_login_at === null ? null : Number(u.last_login_at),
});

/** Emails are compared lower-cased and trimmed: `Ann@x.io` and `ann@x.io ` are one account. */
export const normalEmail = (email: string): string => email.trim().toLowerCase();

export class UsersRepo {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  async byEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', normalEmail(email)).executeTakeFirst();
  }

  async byId(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  /** Inserts a user; undefined when the email is taken (the unique index decides, so two racing creates cannot both win). */
  async create(u: { email: string; passwordHash: string; role: Role }): Promise<UserRow | undefined> {
    if (await this.byEmail(u.email)) return undefined;
    const now = Date.now();
    const row: UserRow = { id: `u_${randomBytes(9).toString('base64url')}`, email: normalEmail(u.email), password_hash: u.passwordHash, role: u.role, created_at: now, updated_at: now, last_login_at: null, token_version: 0 };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (e) {
      if (await this.byEmail(u.email)) return undefined;
      throw e;
    }
    return row;
  }

  /**
   * Demotes (`role: 'user'`) or removes a user unless that would leave no admin: the check and the
   * change are one transaction, and on PostgreSQL it locks the admin rows first, so two requests
   * demoting or removing the last two admins at once cannot both succeed (the second sees one
   * admin left). SQLite runs the store's transactions one at a time anyway.
   */
  async changeGuardingLastAdmin(id: string, change: { remove: true } | { role: Role; passwordHash?: string | undefined }): Promise<'done' | 'not_found' | 'last_admin'> {
    return this.db.transaction().execute(async (trx) => {
      const admins = this.store.dialect === 'postgres' ? await trx.selectFrom('users').select('id').where('role', '=', 'admin').forUpdate().execute() : await trx.selectFrom('users').select('id').where('role', '=', 'admin').execute();
      const target = await trx.selectFrom('users').select('role').where('id', '=', id).executeTakeFirst();
      if (!target) return 'not_found';
      const losesAdmin = target.role === 'admin' && ('remove' in change || change.role !== 'admin');
      if (losesAdmin && admins.filter((a) => a.id !== id).length === 0) return 'last_admin';
      if ('remove' in change) {
        await trx.deleteFrom('users').where('id', '=', id).execute();
        return 'done';
      }
      await trx
        .updateTable('users')
        .set((eb) => ({ updated_at: Date.now(), role: change.role, ...(change.passwordHash ? { password_hash: change.passwordHash } : {}), token_version: eb('token_version', '+', 1) }))
        .where('id', '=', id)
        .execute();
      return 'done';
    });
  }

  /** A new role or password also bumps token_version: the user's earlier tokens stop working. */
  async update(id: string, patch: { role?: Role | undefined; passwordHash?: string | undefined }): Promise<UserRow | undefined> {
    const r = await this.db
      .updateTable('users')
      .set((eb) => ({
        updated_at: Date.now(),
        ...(patch.role ? { role: patch.role } : {}),
        ...(patch.passwordHash ? { password_hash: patch.passwordHash } : {}),
        ...(patch.role || patch.passwordHash ? { token_version: eb('token_version', '+', 1) } : {}),
      }))
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0 ? this.byId(id) : undefined;
  }

  /** Ends every token of the user (logout everywhere): bumps token_version. */
  async endAllTokens(id: string): Promise<void> {
    await this.db.updateTable('users').set((eb) => ({ updated_at: Date.now(), token_version: eb('token_version', '+', 1) })).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async touchLogin(id: string): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: Date.now() }).where('id', '=', id).execute();
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async countAdmins(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
