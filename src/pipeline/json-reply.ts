import type { z } from 'zod';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses an agent's reply as one JSON object validated by `schema`. Models often wrap JSON in
 * a Markdown fence or a sentence; the outermost `{...}` is taken. Anything else is an error
 * whose text is sent back to the model on the retry.
 */
export function parseStageReply<S extends z.ZodType>(schema: S, reply: string | Record<string, unknown>): ParseResult<z.infer<S>> {
  let value: unknown = reply;
  if (typeof reply === 'string') {
    const text = extractJsonText(reply);
    if (text === undefined) return { ok: false, error: 'the reply contains no JSON object' };
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { ok: false, error: `the reply is not valid JSON: ${(e as Error).message}` };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'the reply must be one JSON object' };
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return { ok: false, error: `the JSON does not match the schema: ${issues.join('; ')}` };
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
