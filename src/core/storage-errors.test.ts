import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { installErrorHandling, toAppError } from '../server/errors.js';
import { markDatabaseError, markSqliteFile, storageError } from './storage-errors.js';

const sysErr = (code: string, syscall = 'write', path = '/home/u/.cco/results/i-1/a.json') => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, path });

describe('storage and database errors as answers a client can act on', () => {
  it('a full disk is 507 storage_full naming the path', () => {
    for (const e of [sysErr('ENOSPC'), Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })]) {
      const a = toAppError(e);
      expect(a.status).toBe(507);
      expect(a.code).toBe('storage_full');
      expect(a.message).toMatch(/the request did not complete/);
    }
    expect(toAppError(sysErr('ENOSPC')).message).toContain('/home/u/.cco/results/i-1/a.json');
  });

  it('a read-only or failing disk is 503 storage_unavailable', () => {
    for (const e of [sysErr('EROFS'), sysErr('EACCES', 'open'), Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }), Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' })]) {
      expect(toAppError(e)).toMatchObject({ status: 503, code: 'storage_unavailable' });
    }
  });

  it('PostgreSQL unreachable is 503 database_unavailable with a retry delay; the same codes from elsewhere stay a 500', () => {
    const refused = markDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(toAppError(refused)).toMatchObject({ status: 503, code: 'database_unavailable', details: { retryAfterSeconds: 5 } });
    expect(toAppError(markDatabaseError(new Error('Connection terminated unexpectedly')))).toMatchObject({ status: 503, code: 'database_unavailable' });
    expect(toAppError(markDatabaseError(Object.assign(new Error('the database system is shutting down'), { code: '57P03' })))).toMatchObject({ status: 503 });
    // not from the store: no claim about the database
    expect(toAppError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).status).toBe(500);
    // a query the database refused for its values is no outage
    expect(storageError(markDatabaseError(Object.assign(new Error('duplicate key'), { code: '23505' })))).toBeUndefined();
  });

  it('"database is locked" (SQLITE_BUSY, SQLITE_LOCKED and their extended codes) is 503 database_busy with a retry delay, saying how to find the other process', () => {
    const locked = (code: string) => Object.assign(new Error(code.startsWith('SQLITE_LOCKED') ? 'database table is locked' : 'database is locked'), { code });
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']) {
      const a = toAppError(locked(code));
      expect(a, code).toMatchObject({ status: 503, code: 'database_busy', details: { retryAfterSeconds: 5 } });
      expect(a.message).toContain(`another process holds its write lock`);
      expect(a.message).toContain(code);
    }
    expect(toAppError(locked('SQLITE_BUSY')).message).toMatch(/analytics\.db.*second daemon on the same CCO home/);
    // the store's file, when the error carries it
    const named = toAppError(markSqliteFile(locked('SQLITE_BUSY'), '/home/u/.cco/analytics.db')).message;
    expect(named).toContain('The SQLite database /home/u/.cco/analytics.db is locked');
    expect(named).toContain('`fuser /home/u/.cco/analytics.db` or `lsof /home/u/.cco/analytics.db`');
    // not a lock code
    expect(toAppError(Object.assign(new Error('x'), { code: 'SQLITE_BUSYNESS' })).status).toBe(500);
  });

  it('anything else stays "Internal error"', () => {
    expect(toAppError(new Error('boom'))).toMatchObject({ status: 500, code: 'internal_error' });
    // EACCES without a syscall is not the disk (a library's own code)
    expect(toAppError(Object.assign(new Error('x'), { code: 'EACCES' })).status).toBe(500);
  });

  it('the answer carries retry-after for an unreachable database', async () => {
    const app = Fastify();
    installErrorHandling(app, { error: () => undefined });
    app.get('/x', async () => {
      throw markDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    });
    const r = await app.inject({ url: '/x' });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json()).toMatchObject({ error: { code: 'database_unavailable' } });
    await app.close();
  });
});
