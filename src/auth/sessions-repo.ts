import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';

/** What a refresh did to its session. */
export type RotateOutcome = 'rotated' | 'reused' | 'revoked' | 'expired' | 'unknown';

/**
 * Logins as rows (`auth_sessions`): each refresh token names its session and its own jti, and only
 * the newest jti of a session works. Rotation is one conditional update, so two refreshes with the
 * same token cannot both win; the loser, like any old token that comes back, revokes the session
 * (a refresh token seen twice was copied: OAuth 2.0 Security BCP, refresh token rotation).
 */
export class SessionsRepo {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  static newId(): string {
    return `s_${randomBytes(12).toString('base64url')}`;
  }

  /** A new session for a login; its id. */
  async open(userId: string, jti: string, expiresAt: number): Promise<string> {
    const id = SessionsRepo.newId();
    const now = Date.now();
    await this.db.insertInto('auth_sessions').values({ id, user_id: userId, refresh_jti: jti, created_at: now, expires_at: expiresAt, revoked_at: null }).execute();
    // expired rows go as new ones come (a login is rare enough to carry that delete)
    await this.db.deleteFrom('auth_sessions').where('expires_at', '<', now).execute();
    return id;
  }

  /**
   * A session under a given id, unless it exists already (one atomic insert: of two refreshes
   * racing with one token issued before sessions existed, exactly one opens it). False when it existed.
   */
  async openOnce(id: string, userId: string, jti: string, expiresAt: number): Promise<boolean> {
    const r = await this.db
      .insertInto('auth_sessions')
      .values({ id, user_id: userId, refresh_jti: jti, created_at: Date.now(), expires_at: expiresAt, revoked_at: null })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Swaps the session's refresh token `oldJti` for `newJti`; anything but the newest token revokes it. */
  async rotate(id: string, userId: string, oldJti: string, newJti: string, expiresAt: number): Promise<RotateOutcome> {
    const now = Date.now();
    const r = await this.db
      .updateTable('auth_sessions')
      .set({ refresh_jti: newJti, expires_at: expiresAt })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('refresh_jti', '=', oldJti)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return 'rotated';
    const row = await this.db.selectFrom('auth_sessions').select(['user_id', 'refresh_jti', 'revoked_at', 'expires_at']).where('id', '=', id).executeTakeFirst();
    if (!row || row.user_id !== userId) return 'unknown';
    if (row.revoked_at !== null) return 'revoked';
    if (Number(row.expires_at) <= now) return 'expired';
    await this.revoke(id);
    return 'reused';
  }

  /** Ends a session (logout); true when it was active. */
  async revoke(id: string): Promise<boolean> {
    const r = await this.db.updateTable('auth_sessions').set({ revoked_at: Date.now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Whether an access token of this session may still be used. */
  async active(id: string, userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('auth_sessions').select(['user_id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
    return row !== undefined && row.user_id === userId && row.revoked_at === null;
  }

}
