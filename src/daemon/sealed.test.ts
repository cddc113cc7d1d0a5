import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SealedFileError, readSealed, seal, unseal, writeSealed } from './sealed.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-sealed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof SealedFileError ? e.code : 'other';
  }
  return undefined;
}

describe('sealed files', () => {
  const key = randomBytes(32);

  it('round-trips and is not plaintext on disk, mode 0600', () => {
    const f = join(dir, '.cco-agents-sealed');
    writeSealed(key, f, '{"agents":["chief-architect"]}');
    expect(readFileSync(f).includes(Buffer.from('chief-architect'))).toBe(false);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readSealed(key, f)).toBe('{"agents":["chief-architect"]}');
  });

  it('detects a flipped byte, a wrong key and a file copied under another name', () => {
    const sealed = seal(key, 'a', 'hello');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(() => unseal(key, 'a', flipped)).toThrow();
    expect(() => unseal(randomBytes(32), 'a', sealed)).toThrow();
    expect(() => unseal(key, 'b', sealed)).toThrow();
  });

  it('names a missing file and a tampered one with the remedy', () => {
    expect(errorCode(() => readSealed(key, join(dir, '.cco-nope-sealed')))).toBe('sealed_missing');
    const f = join(dir, '.cco-rules-sealed');
    writeSealed(key, f, 'rules');
    writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from('x')]));
    expect(errorCode(() => readSealed(key, f))).toBe('sealed_tampered');
    try {
      readSealed(key, f);
    } catch (e) {
      expect((e as Error).message).toMatch(/Settings file verification failed.*cco daemon restart/);
    }
  });
});
