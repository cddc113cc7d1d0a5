import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { WalAccount } from './wal-account.js';

describe('WalAccount', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-wal-account-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts the frames and commits written while open, per b-tree, though checkpoints run meanwhile', () => {
    const file = join(dir, 'db.sqlite');
    const db = new SQLite(file);
    db.pragma('journal_mode = WAL');
    // checkpoint often: the account must keep every frame anyway
    db.pragma('wal_autocheckpoint = 2');
    db.exec('create table a (id integer primary key, v text); create table b (id integer primary key, v text); create index b_v on b (v)');
    db.prepare('insert into a (v) values (?)').run('before');
    const account = new WalAccount(file);
    account.start();
    const ins = db.prepare('insert into b (v) values (?)');
    for (let i = 0; i < 5; i++) db.transaction(() => ins.run(`value ${i}`))();
    db.prepare('update a set v = ? where id = 1').run('after');
    const w = account.stop();
    account.close();
    db.close();
    expect(w.pageSize).toBe(4096);
    expect(w.commits).toBe(6);
    // five commits each wrote b's leaf and its index's leaf; one wrote a's
    expect(w.byTree).toMatchObject({ b: 5, b_v: 5, a: 1 });
    expect(w.frames).toBe(Object.values(w.byTree).reduce((n, x) => n + x, 0));
  });
});
