import { describe, expect, it } from 'vitest';
import { extractJsonText, parseStageReply } from './json-reply.js';
import { implementationOutput, validationOutput } from './schemas.js';

describe('parseStageReply', () => {
  it('accepts plain JSON, fenced JSON and JSON inside prose', () => {
    const obj = { passed: true, score: 90, issues: [], summary: 'ok' };
    for (const text of [JSON.stringify(obj), '```json\n' + JSON.stringify(obj) + '\n```', `Here it is: ${JSON.stringify(obj)} Thanks.`]) {
      const r = parseStageReply(validationOutput, text);
      expect(r).toEqual({ ok: true, value: obj });
    }
  });

  it('names what is wrong: no JSON, broken JSON, schema mismatch', () => {
    expect(parseStageReply(validationOutput, 'I cannot do that')).toEqual({ ok: false, error: 'the reply is not JSON: "I cannot do that"' });
    const broken = parseStageReply(validationOutput, '{"passed": true,, }');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toMatch(/not valid JSON/);
    const wrong = parseStageReply(validationOutput, '{"passed": "yes", "score": 500, "summary": "x"}');
    expect(!wrong.ok && wrong.error).toMatch(/passed: .*score: /);
    expect(parseStageReply(validationOutput, '[1,2]').ok).toBe(false);
  });

  it('says a prose reply is not JSON, quoting its first 80 characters, even when it holds braces', () => {
    // the `{}` of the code in the prose is not the stage's answer: "files: expected array" misled
    expect(parseStageReply(implementationOutput, 'Sure! here is your code: function x() {}')).toEqual({ ok: false, error: 'the reply is not JSON: "Sure! here is your code: function x() {}"' });
    const long = `Of course!\n\nHere is a long explanation of what I would do ${'and more '.repeat(20)} function f() { return 1; }`;
    const r = parseStageReply(implementationOutput, long);
    expect(r).toEqual({ ok: false, error: `the reply is not JSON: "${long.replace(/\s+/g, ' ').slice(0, 80)}…"` });
    expect(parseStageReply(implementationOutput, '  ')).toEqual({ ok: false, error: 'the reply is not JSON: it is empty' });
    // the stage's object inside prose is still read, and judged against the schema
    expect(parseStageReply(implementationOutput, 'Here you go: {"files": "main.js"}')).toEqual({ ok: false, error: 'the JSON does not match the schema: files: Invalid input: expected array, received string' });
    const broken = parseStageReply(implementationOutput, 'Here you go: {"files": [,]}');
    expect(!broken.ok && broken.error).toMatch(/^the reply is not valid JSON: /);
    // a reply that is JSON keeps the schema's words
    expect(parseStageReply(implementationOutput, '{}')).toMatchObject({ ok: false, error: expect.stringMatching(/^the JSON does not match the schema: files: /) as unknown });
  });

  it('extracts the outermost object', () => {
    expect(extractJsonText('a {"x": {"y": 1}} b')).toBe('{"x": {"y": 1}}');
    expect(extractJsonText('no braces')).toBeUndefined();
  });
});
