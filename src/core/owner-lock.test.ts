import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectOwner, takeOwnerLock } from './owner-lock.js';
import type { OwnerRecord } from './owner-lock.js';
import { processIdentity } from './process-alive.js';

describe('owner files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-owner-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const held = (o: OwnerRecord): never => {
    throw new Error(`held by ${o.pid}`);
  };

  it('keeps a file that is not a record as <file>.corrupt and says so, instead of deleting it', () => {
    const file = join(dir, 'truncated.json');
    writeFileSync(file, '{"pid":');
    const state = inspectOwner(file);
    expect(state.owner).toBeUndefined();
    expect(state.setAside).toBe(`${file}.corrupt`);
    expect(readFileSync(`${file}.corrupt`, 'utf8')).toBe('{"pid":');
    expect(existsSync(file)).toBe(false);
    // a record without a pid is no record either
    writeFileSync(file, '{"port":3000}');
    expect(inspectOwner(file).setAside).toBe(`${file}.corrupt`);
  });

  it('a corrupt file does not block taking the lock', () => {
    const file = join(dir, 'take.json');
    writeFileSync(file, 'garbage');
    const lock = takeOwnerLock(file, { pid: process.pid }, held);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, identity: processIdentity() });
    expect(existsSync(`${file}.corrupt`)).toBe(true);
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('removes the record of a process that is gone, and reports a live owner', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const file = join(dir, 'stale.json');
    writeFileSync(file, JSON.stringify({ pid: gone }));
    expect(inspectOwner(file)).toEqual({ owner: undefined });
    expect(existsSync(file)).toBe(false);
    const live = { pid: process.ppid };
    writeFileSync(file, JSON.stringify(live));
    expect(inspectOwner(file).owner).toEqual(live);
    expect(() => takeOwnerLock(file, { pid: process.pid }, held)).toThrow(`held by ${process.ppid}`);
  });
});
