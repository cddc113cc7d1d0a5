import { describe, expect, it } from 'vitest';
import { withModel } from './raw-model.js';

describe('withModel', () => {
  it('replaces only the top-level model value and keeps every other byte', () => {
    const raw = '{"model" : "claude-a","span":12345678901234567890,"f":1.10,"dup":1,"dup":2,\n "messages":[{"role":"user","content":"the \\"model\\": \\"x\\" {["}],"metadata":{"model":"inner"}}';
    const out = withModel(raw, 'claude-b');
    expect(out).toBe(raw.replace('"claude-a"', '"claude-b"'));
    expect((JSON.parse(out as string) as { model: string }).model).toBe('claude-b');
  });

  it('replaces duplicate top-level model keys too (a parser takes the last)', () => {
    expect(withModel('{"model":"a","x":1,"model":"b"}', 'c')).toBe('{"model":"c","x":1,"model":"c"}');
  });

  it('gives up when there is no top-level string model', () => {
    expect(withModel('{"messages":[{"model":"x"}]}', 'c')).toBeUndefined();
    expect(withModel('{"model":5}', 'c')).toBeUndefined();
  });

  it('escapes the new value', () => {
    expect(JSON.parse(withModel('{"model":"a"}', 'we"ird\\') as string)).toEqual({ model: 'we"ird\\' });
  });
});
