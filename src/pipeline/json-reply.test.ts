import { describe, expect, it } from 'vitest';
import { extractJsonText, parseStageReply } from './json-reply.js';
import { validationOutput } from './schemas.js';

describe('parseStageReply', () => {
  it('accepts plain JSON, fenced JSON and JSON inside prose', () => {
    const obj = { passed: true, score: 90, issues: [], summary: 'ok' };
    for (const text of [JSON.stringify(obj), '```json\n' + JSON.stringify(obj) + '\n```', `Here it is: ${JSON.stringify(obj)} Thanks.`]) {
      const r = parseStageReply(validationOutput, text);
      expect(r).toEqual({ ok: true, value: obj });
    }
  });

  it('names what is wrong: no JSON, broken JSON, schema mismatch', () => {
    expect(parseStageReply(validationOutput, 'I cannot do that')).toEqual({ ok: false, error: 'the reply contains no JSON object' });
    const broken = parseStageReply(validationOutput, '{"passed": true,, }');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toMatch(/not valid JSON/);
    const wrong = parseStageReply(validationOutput, '{"passed": "yes", "score": 500, "summary": "x"}');
    expect(!wrong.ok && wrong.error).toMatch(/passed: .*score: /);
    expect(parseStageReply(validationOutput, '[1,2]').ok).toBe(false);
  });

  it('extracts the outermost object', () => {
    expect(extractJsonText('a {"x": {"y": 1}} b')).toBe('{"x": {"y": 1}}');
    expect(extractJsonText('no braces')).toBeUndefined();
  });
});
