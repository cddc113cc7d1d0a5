import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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

  it.skipIf(processIdentity() === undefined)('a record without an identity (an older build) is stale when its pid now belongs to a process started after it', async () => {
    const file = join(dir, 'legacy.json');
    // an older build's lock: pid and start time, no identity; the pid then went to another process
    const later = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => later.once('spawn', r));
      const pid = later.pid as number;
      writeFileSync(file, JSON.stringify({ pid, startedAt: Date.now() - 60_000 }));
      expect(inspectOwner(file)).toEqual({ owner: undefined });
      expect(existsSync(file)).toBe(false);
      // the same record written after the process started is still its owner's
      writeFileSync(file, JSON.stringify({ pid, startedAt: Date.now() }));
      expect(inspectOwner(file).owner).toMatchObject({ pid });
      // without a start time, the file's own time stands for it
      writeFileSync(file, JSON.stringify({ pid }));
      utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      expect(inspectOwner(file)).toEqual({ owner: undefined });
    } finally {
      later.kill('SIGKILL');
    }
  });
});
