import { describe, it } from 'vitest';
import { searchParity } from './knowledge-parity.js';

describe('knowledge search', () => {
  it('finds file names, hosts, addresses and versions by their words; a NUL in a text is no error (SQLite)', () => searchParity('sqlite'));
});
