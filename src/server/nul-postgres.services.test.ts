import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';

const url = process.env.DATABASE_URL;

if (!url) describe('a NUL character on PostgreSQL', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
else
  describe('a NUL character on PostgreSQL (its text cannot hold U+0000)', () => {
    const name = `cco_nul_${process.pid}_${Date.now()}`;
    const admin = async (q: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(q);
      } finally {
        await c.end();
      }
    };
    let t: TestDaemon;
    beforeAll(async () => {
      await admin(`create database ${name}`);
      const u = new URL(url);
      u.pathname = `/${name}`;
      t = await startTestDaemon({ config: (c) => ({ ...c, storage: { ...c.storage, database_url: u.toString() } }) });
    });
    afterAll(async () => {
      await t?.cleanup();
      await admin(`drop database if exists ${name} with (force)`);
    });

    it('in a body or a query parameter is an ordinary character: no 500 on any route', async () => {
      const post = await fetch(`${t.url}/api/requirements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requirement: 'a landing page\u0000 for a bakery' }) });
      expect(post.status).toBe(202);
      for (const path of ['/api/project/stats?project=%00', '/api/project/stats?session=a%00b', '/api/machine/stats?project=a%00', '/api/hooks/events?session=%00']) {
        const r = await fetch(`${t.url}${path}`);
        expect(r.status, path).toBe(200);
      }
      const login = await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a\u0000@example.com', password: 'whatever-pw' }) });
      expect(login.status).toBe(401);
    });
  });
