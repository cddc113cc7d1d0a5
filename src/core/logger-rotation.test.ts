import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-logger-rotation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seqOf = (file: string): number[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    // a line split by a rotation would not parse
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

describe('the daemon log rotation', () => {
  it('rotates past the size into <file>.1 … <file>.<keep>, keeps the count bounded, loses no line at a boundary', async () => {
    const sub = mkdtempSync(join(dir, 'run-'));
    const file = join(sub, 'daemon.log');
    const maxBytes = 4096;
    const { logger, flush } = createLogger({ level: 'info', file, rotate: { maxBytes, keep: 2 } });
    let seq = 0;
    // ~200 bytes a line, ~100 KB in all: about 25 rotations, in small bursts and one large one
    for (let burst = 0; burst < 80; burst++) {
      for (let i = 0; i < 5; i++) logger.warn({ seq: seq++, upstream: 'x'.repeat(60) }, 'upstream request failed');
      await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; i < 100; i++) logger.warn({ seq: seq++, upstream: 'x'.repeat(60) }, 'upstream request failed');
    await flush();
    expect(readdirSync(sub).sort()).toEqual(['daemon.log', 'daemon.log.1', 'daemon.log.2']);
    const kept = [`${file}.2`, `${file}.1`, file].map(seqOf);
    const all = kept.flat();
    // oldest to newest, consecutive up to the last line: nothing lost or reordered across rotations
    expect(all.at(-1)).toBe(seq - 1);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => (all[0] as number) + i));
    // and the oldest lines are gone: the count is bounded
    expect(all[0]).toBeGreaterThan(0);
    for (const f of [`${file}.2`, `${file}.1`]) {
      // one write of sonic-boom (at most 16 KB) may pass the bound before the switch
      expect(statSync(f).size).toBeLessThan(maxBytes + 16 * 1024);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('counts what the file held already, and never rotates when told not to', async () => {
    const sub = mkdtempSync(join(dir, 'run-'));
    const file = join(sub, 'daemon.log');
    writeFileSync(file, `${JSON.stringify({ seq: -1, old: 'y'.repeat(2000) })}\n`, { mode: 0o600 });
    const { logger, flush } = createLogger({ level: 'info', file, rotate: { maxBytes: 2000, keep: 3 } });
    logger.warn({ seq: 0 }, 'first line of this run');
    await flush();
    logger.warn({ seq: 1 }, 'second line of this run');
    await flush();
    expect(seqOf(`${file}.1`)).toEqual([-1, 0]);
    expect(seqOf(file)).toEqual([1]);

    const other = join(sub, 'never.log');
    const never = createLogger({ level: 'info', file: other, rotate: false });
    for (let i = 0; i < 100; i++) never.logger.warn({ seq: i, upstream: 'x'.repeat(60) }, 'upstream request failed');
    await never.flush();
    expect(existsSync(`${other}.1`)).toBe(false);
    expect(seqOf(other)).toHaveLength(100);
  });
});
