/** A person who logs in (seed 004: users with roles). */
export interface UsersTable {
  id: string; // u_<random>
  email: string; // unique, lower-cased
  password_hash: string; // scrypt$N$r$p$salt$key
  role: string; // admin | user
  created_at: number; // epoch ms
  updated_at: number;
  last_login_at: number | null;
  /** Bumped on a password or role change: tokens issued before stop working. */
  token_version: number;
}

/**
 * A login (one device or client): its refresh tokens rotate, and only the newest one works. A
 * refresh token used twice means it was copied: the session is revoked.
 */
export interface AuthSessionsTable {
  id: string; // s_<random>, or legacy-<jti> for a refresh token issued before sessions existed
  user_id: string;
  /** The jti of the one refresh token of this session that may be used next. */
  refresh_jti: string;
  created_at: number; // epoch ms
  /** When the newest refresh token expires; the row can go after that. */
  expires_at: number;
  /** Logged out, or revoked because an old refresh token came back. */
  revoked_at: number | null;
}

export interface AuthTables {
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
}
