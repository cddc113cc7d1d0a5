import type { MigrationSet } from './types.js';

/** Migrations of the auth module's tables. Name each `auth_NNN_what`; never edit a shipped one. */
export const authMigrations: MigrationSet = () => ({
  auth_001_users: {
    async up(db) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login_at', 'bigint')
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('users').execute();
    },
  },
  auth_002_token_version: {
    async up(db) {
      await db.schema.alterTable('users').addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db) {
      await db.schema.alterTable('users').dropColumn('token_version').execute();
    },
  },
  auth_003_sessions: {
    async up(db) {
      await db.schema
        .createTable('auth_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('refresh_jti', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('auth_sessions_expires').on('auth_sessions').column('expires_at').execute();
    },
    async down(db) {
      await db.schema.dropTable('auth_sessions').execute();
    },
  },
});
