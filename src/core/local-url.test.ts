import { describe, expect, it } from 'vitest';
import { localUrl } from './local-url.js';

describe('localUrl', () => {
  it('reaches wildcard binds on 127.0.0.1 and puts IPv6 addresses in brackets', () => {
    expect(localUrl('127.0.0.1', 3001)).toBe('http://127.0.0.1:3001');
    expect(localUrl('0.0.0.0', 3001)).toBe('http://127.0.0.1:3001');
    expect(localUrl('::', 3001)).toBe('http://127.0.0.1:3001');
    expect(localUrl('::1', 3001)).toBe('http://[::1]:3001');
    expect(localUrl('[::1]', 3001)).toBe('http://[::1]:3001');
    expect(localUrl('localhost', 3001)).toBe('http://localhost:3001');
    expect(new URL(localUrl('::1', 3001)).hostname).toBe('[::1]');
  });
});
