import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../config/paths.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { checkDatabase, checkSqlite } from './doctor-database.js';

describe('cco doctor: the database check', () => {
  const t = tempCcoEnv();
  const paths = resolvePaths(t.env);
  mkdirSync(paths.home, { recursive: true });
  afterAll(() => t.cleanup());

  it('fails on a file that is not a database, naming it and how to move it aside', async () => {
    const file = join(paths.home, 'random.db');
    writeFileSync(file, randomBytes(64 * 1024));
    writeFileSync(`${file}-wal`, randomBytes(100));
    const r = await checkSqlite(file);
    expect(r.level).toBe('fail');
    expect(r.detail).toContain(`cannot open SQLite ${file}: file is not a database`);
    expect(r.fix).toContain(`mv ${file} ${file}.corrupt && mv ${file}-wal ${file}.corrupt-wal`);
    expect(r.fix).toMatch(/&& cco daemon restart$/);
  });

  it('fails on a database whose pages are damaged (the header is fine, a table is not)', async () => {
    const file = join(paths.home, 'damaged.db');
    const db = new SQLite(file);
    db.exec("create table t (x); with recursive n(i) as (select 1 union all select i + 1 from n where i < 2000) insert into t select hex(randomblob(200)) from n");
    db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(4096), 0, 4096, 4096 * 3);
    closeSync(fd);
    const r = await checkSqlite(file);
    expect(r.level).toBe('fail');
    expect(r.detail).toContain(`cannot open SQLite ${file}`);
  });

  it('passes on a real database, and on a missing one (created at the first start)', async () => {
    const file = join(paths.home, 'good.db');
    const db = new SQLite(file);
    db.exec('create table t (x)');
    db.close();
    expect(await checkSqlite(file)).toMatchObject({ level: 'ok', detail: `SQLite ${file} opens (1 tables)` });
    expect((await checkSqlite(join(paths.home, 'none.db'))).level).toBe('ok');
  });

  it('uses the configured store: the default file under CCO_HOME, or DATABASE_URL with its password masked', async () => {
    writeFileSync(paths.databaseFile, randomBytes(8192));
    expect((await checkDatabase(undefined, paths, {})).detail).toContain(paths.databaseFile);
    const r = await checkDatabase(undefined, paths, { DATABASE_URL: 'postgres://cco:s3cret-pw@127.0.0.1:9/cco' });
    expect(r.level).toBe('fail');
    expect(r.detail).toContain('postgres://cco:***@127.0.0.1:9/cco');
    expect(JSON.stringify(r)).not.toContain('s3cret-pw');
  });
});
