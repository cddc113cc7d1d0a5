import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastLinesAtLevel, lineLevel, parseLineCount } from './daemon-cmd.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cco daemon logs --level', () => {
  it('reads labels and the numbers of older logs', () => {
    expect(lineLevel('{"level":"warn","msg":"x"}')).toBe(40);
    expect(lineLevel('{"level":50,"msg":"x"}')).toBe(50);
    expect(lineLevel('not json')).toBeUndefined();
  });

  it('keeps the last n lines at the level or above, in order', () => {
    const file = join(dir, 'daemon-3000.log');
    const lines = ['{"level":30,"msg":"old info"}', '{"level":50,"msg":"old error"}', '{"level":"info","msg":"a"}', '{"level":"warn","msg":"b"}', 'garbage', '{"level":"error","msg":"c"}', '{"level":"debug","msg":"d"}'];
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(lastLinesAtLevel(file, 40, 10).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['old error', 'b', 'c']);
    expect(lastLinesAtLevel(file, 40, 2).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['b', 'c']);
  });
});

describe('cco daemon logs --lines', () => {
  it('takes a whole number, 0 or more; refuses anything else', () => {
    expect(parseLineCount('0')).toBe(0);
    expect(parseLineCount('25')).toBe(25);
    for (const bad of ['-1', 'abc', '1.5', '', '1e3', '99999999999999999999']) expect(parseLineCount(bad), bad).toBeUndefined();
  });
});
