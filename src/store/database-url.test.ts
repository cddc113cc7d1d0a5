import { describe, expect, it } from 'vitest';
import { storageSection } from '../config/sections/storage.js';
import { PG_APPLICATION_NAME, PG_POOL_MAX_DEFAULT, checkDatabaseUrl, openStore, postgresPoolConfig } from './store.js';

/** What `checkDatabaseUrl` throws for `url` (undefined when it accepts it). */
const refusal = (url: string): { code?: string; field?: string; message: string } | undefined => {
  try {
    checkDatabaseUrl(url);
    return undefined;
  } catch (e) {
    return e as { code?: string; field?: string; message: string };
  }
};

describe('DATABASE_URL check', () => {
  it('accepts postgres:// and postgresql:// URLs, a Unix socket given as ?host= too', () => {
    for (const url of ['postgres://u:p@db:5432/x', 'postgresql://db/x', 'postgres:///x?host=/var/run/postgresql', 'POSTGRES://db/x']) expect(refusal(url)).toBeUndefined();
  });

  it('refuses another scheme, naming DATABASE_URL, the value with its password masked and the expected form', () => {
    const err = refusal('mysql://app:hunter2@db:3306/x');
    expect(err?.code).toBe('database_url_invalid');
    expect(err?.field).toBe('DATABASE_URL');
    expect(err?.message).toContain('DATABASE_URL mysql://app:***@db:3306/x is not a PostgreSQL URL');
    expect(err?.message).toContain('postgres://user:password@host:5432/database');
    expect(err?.message).toContain('unset it to use the embedded SQLite database');
    expect(err?.message).not.toContain('hunter2');
  });

  it('refuses a string that is not a URL, masking a password= in it', () => {
    expect(refusal('notaurl')?.message).toMatch(/^DATABASE_URL notaurl is not a URL\. Give one of the form postgres:\/\/user:password@host:5432\/database/);
    const keywords = refusal('host=db password=hunter2 dbname=x');
    expect(keywords?.message).toContain('DATABASE_URL host=db password=*** dbname=x is not a URL');
    expect(keywords?.message).not.toContain('hunter2');
  });

  it('is applied by openStore before any connection is tried', async () => {
    // port 1: a connection attempt would fail with "nothing accepts connections" instead
    const err = (await openStore({ databaseUrl: 'mysql://app:hunter2@127.0.0.1:1/x' }).catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(err.code).toBe('database_url_invalid');
    expect(err.message).not.toContain('hunter2');
  });
});

describe('PostgreSQL pool settings', () => {
  const url = 'postgres://u@db/x';

  it('holds 10 connections by default and the number given otherwise', () => {
    expect(PG_POOL_MAX_DEFAULT).toBe(10);
    expect(postgresPoolConfig(url, {}).max).toBe(10);
    expect(postgresPoolConfig(url, { pgPoolSize: 20 }).max).toBe(20);
  });

  it('names its connections cco-orchestrator unless told otherwise (the URL’s application_name wins in the driver)', () => {
    expect(PG_APPLICATION_NAME).toMatch(/cco/);
    expect(PG_APPLICATION_NAME).toMatch(/orchestrator/);
    expect(postgresPoolConfig(url, {}).fallback_application_name).toBe(PG_APPLICATION_NAME);
    expect(postgresPoolConfig(url, { pgApplicationName: 'cco-orchestrator-proxy' }).fallback_application_name).toBe('cco-orchestrator-proxy');
    expect(postgresPoolConfig(url, {}).application_name).toBeUndefined();
  });

  it('[storage] pg_pool_max defaults to 10 and is held to 1–200', () => {
    expect(storageSection.parse({}).pg_pool_max).toBe(10);
    expect(storageSection.parse({ pg_pool_max: 20 }).pg_pool_max).toBe(20);
    for (const bad of [0, 201, 2.5]) expect(storageSection.safeParse({ pg_pool_max: bad }).success).toBe(false);
  });
});
