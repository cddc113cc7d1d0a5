import { z } from 'zod';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Characters of a reply quoted in the error when it is not JSON. */
const QUOTED_CHARS = 80;

/**
 * Parses an agent's reply as one JSON object validated by `schema`. Models often wrap JSON in
 * a Markdown fence or a sentence; the outermost `{...}` is taken. Anything else is an error
 * whose text is sent back to the model on the retry (and ends in the stage's error).
 */
export function parseStageReply<S extends z.ZodType>(schema: S, reply: string | Record<string, unknown>): ParseResult<z.infer<S>> {
  let value: unknown = reply;
  if (typeof reply === 'string') {
    const text = extractJsonText(reply);
    if (text === undefined) return { ok: false, error: notJson(reply) };
    // Prose with braces in it (`here is your code: function x() {}`) is not an answer in JSON:
    // saying "files: expected array" about its `{}` would send the reader the wrong way.
    const prose = !reply.trim().startsWith('{') && !/```(?:json)?\s*\n\s*\{/.test(reply);
    const fields = fieldsOf(schema);
    try {
      value = JSON.parse(text);
    } catch (e) {
      const meant = !prose || fields.length === 0 || fields.some((f) => text.includes(`"${f}"`));
      return { ok: false, error: meant ? `the reply is not valid JSON: ${(e as Error).message}` : notJson(reply) };
    }
    const answer = fields.length === 0 || (typeof value === 'object' && value !== null && fields.some((f) => f in (value as object)));
    if (prose && !answer) return { ok: false, error: notJson(reply) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'the reply must be one JSON object' };
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return { ok: false, error: `the JSON does not match the schema: ${issues.join('; ')}` };
}

/** "the reply is not JSON" with the reply's first characters, on one line. */
function notJson(reply: string): string {
  const flat = reply.replace(/\s+/g, ' ').trim();
  if (!flat) return 'the reply is not JSON: it is empty';
  const quoted = flat.length > QUOTED_CHARS ? `${flat.slice(0, QUOTED_CHARS)}…` : flat;
  return `the reply is not JSON: ${JSON.stringify(quoted)}`;
}

/** The schema's top-level fields: an object in prose with none of them is a stray `{}`, not the stage's answer. */
function fieldsOf(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** The JSON object text inside a reply: a ```json fence's body, else from the first `{` to the last `}`. */
export function extractJsonText(reply: string): string | undefined {
  const fence = /```(?:json)?\s*\n([\s\S]*?)\n?```/.exec(reply);
  const body = fence?.[1]?.trim().startsWith('{') ? fence[1] : reply;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  return body.slice(start, end + 1);
}
