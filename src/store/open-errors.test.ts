import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, postgresOpenError } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-store-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening the store', () => {
  it('names a SQLite file that is not a database and says how to start again', async () => {
    const file = join(dir, 'analytics.db');
    writeFileSync(file, randomBytes(8192));
    const err = (await openStore({ sqlitePath: file }).catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(err.code).toBe('database_corrupt');
    expect(err.message).toContain(file);
    expect(err.message).toContain(`mv ${file} ${file}.corrupt`);
  });

  it("creates a new database readable by the user only (analytics and hook payloads are the user's)", async () => {
    const file = join(dir, 'fresh', 'analytics.db');
    const store = await openStore({ sqlitePath: file });
    await store.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('turns a PostgreSQL server that is down into a sentence naming the URL (password masked) and the fix', async () => {
    // a port nobody listens on: taken, then freed
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const url = `postgres://app:hunter2@127.0.0.1:${port}/teamdb`;
    const err = (await openStore({ databaseUrl: url }).catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(err.code).toBe('database_open_failed');
    expect(err.message).toContain(`postgres://app:***@127.0.0.1:${port}/teamdb`);
    expect(err.message).toContain(`pg_isready -h 127.0.0.1 -p ${port}`);
    expect(err.message).not.toContain('hunter2');
  });

  it('names the fix for a missing database or role, and leaves other errors alone', () => {
    const url = 'postgres://bob:pw@db.internal:6543/nope';
    expect((postgresOpenError(url, Object.assign(new Error('database "nope" does not exist'), { code: '3D000' })) as Error).message).toContain('createdb -h db.internal -p 6543 nope');
    expect((postgresOpenError(url, Object.assign(new Error('role "bob" does not exist'), { code: '28000' })) as Error).message).toContain('createuser -h db.internal -p 6543 bob');
    const other = Object.assign(new Error('syntax error'), { code: '42601' });
    expect(postgresOpenError(url, other)).toBe(other);
  });
});
