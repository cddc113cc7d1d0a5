import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claudeMissing, CLAUDE_NOT_FOUND, findClaude } from './find-claude.js';

describe('finding Claude Code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-find-claude-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = (path: string) => {
    writeFileSync(path, '#!/bin/sh\n', { mode: 0o755 });
    return path;
  };

  it('passes over a folder named claude earlier on PATH, and a claude that is cco itself', () => {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    const third = join(dir, 'third');
    mkdirSync(join(first, 'claude'), { recursive: true });
    mkdirSync(second);
    mkdirSync(third);
    const cco = script(join(dir, 'cco-main.js'));
    symlinkSync(cco, join(second, 'claude'));
    const real = script(join(third, 'claude'));
    expect(findClaude({ PATH: [first, second, third].join(delimiter) }, cco)).toBe(real);
    // without the real one: nothing (not cco again)
    expect(findClaude({ PATH: [first, second].join(delimiter) }, cco)).toBeUndefined();
  });

  it('CCO_CLAUDE_BIN must name an executable file, and the message says that it does not', () => {
    expect(findClaude({ CCO_CLAUDE_BIN: dir, PATH: '' })).toBeUndefined();
    expect(claudeMissing({ CCO_CLAUDE_BIN: dir })).toContain(`CCO_CLAUDE_BIN=${dir} is not an executable file`);
    expect(claudeMissing({})).toBe(CLAUDE_NOT_FOUND);
  });
});
