import type { DaemonModule, ModuleContext, PartHealth } from '../server/module.js';
import { UserTokens } from './jwt.js';
import type { Role } from './jwt.js';
import { hashPassword } from './passwords.js';
import { currentUser, registerAuthRoutes } from './routes.js';
import { SessionsRepo } from './sessions-repo.js';
import { userTokenSecrets } from './secrets.js';
import { UsersRepo } from './users-repo.js';

export interface AuthModule extends DaemonModule {
  /** For the front door: a person's token, checked against the user as stored now. */
  resolve(token: string): Promise<{ userId: string; email: string; role: Role } | undefined>;
}

/**
 * People's logins and roles (seed 004). The front door resolves `Authorization: Bearer <user
 * token>` through `tokens`; routes here issue and check them and administer users. A first admin
 * comes from `CCO_ADMIN_EMAIL` + `CCO_ADMIN_PASSWORD` at start (created once, never overwritten),
 * or from a local client: `curl -X POST localhost:3000/api/admin/users -d '{...,"role":"admin"}'`.
 */
export function createAuthModule(ctx: ModuleContext): AuthModule {
  const tokens = new UserTokens({ ...userTokenSecrets(ctx.env, ctx.paths), accessTtlSeconds: ctx.config.auth.access_ttl_seconds, refreshTtlSeconds: ctx.config.auth.refresh_ttl_seconds });
  const users = new UsersRepo(ctx.store);
  const sessions = new SessionsRepo(ctx.store);
  return {
    name: 'auth',
    async resolve(token) {
      const c = await tokens.resolve(token);
      if (!c) return undefined;
      const u = await currentUser({ users, sessions }, c);
      return { userId: u.id, email: u.email, role: u.role as Role };
    },
    register(app) {
      registerAuthRoutes(app, { users, sessions, tokens });
    },
    async start() {
      const email = ctx.env.CCO_ADMIN_EMAIL;
      const password = ctx.env.CCO_ADMIN_PASSWORD;
      if (!email || !password) return;
      if (password.length < 8) {
        ctx.logger.warn('CCO_ADMIN_PASSWORD is shorter than 8 characters: no admin created');
        return;
      }
      const u = await users.create({ email, passwordHash: await hashPassword(password), role: 'admin' });
      if (u) ctx.logger.info({ user: u.id }, 'admin user created from CCO_ADMIN_EMAIL');
    },
    async health(): Promise<PartHealth> {
      return { status: 'ok', users: await users.count() };
    },
  };
}
