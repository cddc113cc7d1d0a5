import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from './shell-quote.js';

describe('shellQuote', () => {
  it('leaves plain paths as they are and quotes what the shell would read, so sh gives back each word whole', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    const words = ['/tmp/sp ace/main.js', "it's", '$HOME', 'a;b', '', 'tab\there', '`x`', 'back\\slash'];
    const out = execFileSync('sh', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(out.split('\n').slice(0, -1)).toEqual(words);
  });
});
