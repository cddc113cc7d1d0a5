import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './store.js';

describe('a database a newer CCO has migrated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-newer-schema-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused with what happened and what to do, naming the database, and left as it was', async () => {
    const file = join(dir, 'analytics.db');
    const store = await openStore({ sqlitePath: file });
    // what a later version's migration leaves behind
    await sql`insert into kysely_migration (name, timestamp) values ('zz_999_from_the_future', '2099-01-01T00:00:00.000Z')`.execute(store.db);
    await store.close();
    const err = await openStore({ sqlitePath: file }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(`The database ${file} was upgraded by a newer version of CCO`);
    expect(err?.message).toContain('zz_999_from_the_future');
    expect(err?.message).toContain('Run the newer version');
    expect(err?.message).not.toContain('corrupted');
    // nothing was changed: the record is still there for the newer version
    const again = await openStore({ sqlitePath: file, migrate: false });
    const rows = (await sql<{ name: string }>`select name from kysely_migration where name = 'zz_999_from_the_future'`.execute(again.db)).rows;
    expect(rows).toHaveLength(1);
    await again.close();
  });
});
