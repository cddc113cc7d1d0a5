import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseJsonConfig } from './json-file.js';

function errorOf(text: string): ConfigError {
  try {
    parseJsonConfig(text, 'routes.json');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('parsed');
}

describe('parseJsonConfig', () => {
  it('parses valid JSON', () => {
    expect(parseJsonConfig('{"a": [1, 2]}', 'x.json')).toEqual({ a: [1, 2] });
  });

  it('names a trailing comma with line and column', () => {
    const e = errorOf('{\n  "routes": [\n    {"pattern": "x"},\n  ]\n}');
    expect(e.message).toContain('routes.json:4:');
    expect(e.message).toMatch(/trailing comma/);
    expect(e.location.line).toBe(4);
  });

  it('names single quotes', () => {
    expect(errorOf("{\n  'routes': []\n}").message).toMatch(/single quotes/);
  });

  it('names a missing colon', () => {
    expect(errorOf('{\n  "routes" []\n}').message).toMatch(/missing colon/);
  });
});
