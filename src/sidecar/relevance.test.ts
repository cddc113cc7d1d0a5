import { describe, expect, it } from 'vitest';
import { decodeText } from './relevance.js';

describe('decodeText (files read for context)', () => {
  it('reads UTF-8 as UTF-8', () => {
    expect(decodeText(Buffer.from('naïve café ☕ 🎉\n'))).toBe('naïve café ☕ 🎉\n');
  });

  it('reads a Latin-1 source file as Latin-1 (not as replacement characters)', () => {
    expect(decodeText(Buffer.from('# café, José\nx = 1\n', 'latin1'))).toBe('# café, José\nx = 1\n');
  });

  it('skips binaries, with or without a NUL in their first KiB', () => {
    expect(decodeText(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]))).toBeNull();
    const noNul = Buffer.alloc(3000);
    for (let i = 0; i < noNul.length; i++) noNul[i] = 1 + ((i * 37) % 255);
    expect(decodeText(noNul)).toBeNull();
  });
});
