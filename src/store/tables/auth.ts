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

export interface AuthTables {
  users: UsersTable;
}
