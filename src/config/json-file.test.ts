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

  it('refuses a key given twice in one object with line, column and the key (JSON.parse keeps the last silently)', () => {
    const e = errorOf('{\n  "routes": [],\n  "version": 1,\n  "routes": [{"pattern": "x"}]\n}');
    expect(e.message).toBe('Unable to parse configuration file routes.json:4:3: duplicate key "routes" in the same object (JSON keeps only the last one, silently) — remove one or merge them');
    expect(e.location).toEqual({ line: 4, column: 3, key: 'routes' });
    // the same key in different objects is fine
    expect(parseJsonConfig('{"a": {"b": 1}, "c": [{"b": 1}, {"b": 2}]}', 'x.json')).toEqual({ a: { b: 1 }, c: [{ b: 1 }, { b: 2 }] });
  });

  it('names single quotes', () => {
    expect(errorOf("{\n  'routes': []\n}").message).toMatch(/single quotes/);
  });

  it('names an invalid escape (a regex written with one backslash) and a raw control character, with line and column', () => {
    const bad = errorOf('{\n  "routes": [{"pattern": "^claude-\\d"}]\n}');
    expect(bad.message).toContain('routes.json:2:');
    expect(bad.message).toMatch(/invalid escape \\d/);
    expect(bad.location.line).toBe(2);
    const tab = errorOf('{\n  "routes": [{"pattern": "a\tb"}]\n}');
    expect(tab.message).toContain('routes.json:2:');
    expect(tab.message).toMatch(/control character/);
    expect(errorOf('{"a": "\\u12"}').message).toMatch(/four hex digits/);
    // valid escapes still parse
    expect(parseJsonConfig('{"pattern": "^claude-\\\\d\\u00e9\\n"}', 'x.json')).toEqual({ pattern: '^claude-\\d\u00e9\n' });
  });

  it('reads a file that starts with a byte order mark', () => {
    expect(parseJsonConfig('\ufeff{"routes": []}', 'x.json')).toEqual({ routes: [] });
  });

  it('names a missing colon', () => {
    expect(errorOf('{\n  "routes" []\n}').message).toMatch(/missing colon/);
  });
});
