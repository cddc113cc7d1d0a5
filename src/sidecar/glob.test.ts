import { describe, expect, it } from 'vitest';
import { globMatcher } from './glob.js';

describe('globMatcher', () => {
  const cases: [string[], string, boolean][] = [
    [['**/*.py'], 'a.py', true],
    [['**/*.py'], 'src/deep/a.py', true],
    [['**/*.py'], 'src/a.pyc', false],
    [['src/**'], 'src/a/b.ts', true],
    [['src/**'], 'lib/a.ts', false],
    [['*.{ts,tsx}'], 'web/app.tsx', true],
    [['*.{ts,tsx}'], 'web/app.js', false],
    [['**/Dockerfile'], 'Dockerfile', true],
    [['**/Dockerfile'], 'svc/Dockerfile', true],
    [['tests/test_?.py'], 'tests/test_a.py', true],
    [['tests/test_?.py'], 'tests/test_ab.py', false],
    [['src/*.ts'], 'src/a/b.ts', false],
    [['**/[Mm]akefile'], 'x/makefile', true],
    [['docs/**/*.md'], 'docs/a.md', true],
    [['a+b.(x)'], 'a+b.(x)', true],
  ];
  for (const [globs, path, want] of cases) {
    it(`${globs.join(',')} ${want ? 'matches' : 'does not match'} ${path}`, () => {
      expect(globMatcher(globs)(path)).toBe(want);
    });
  }
});
