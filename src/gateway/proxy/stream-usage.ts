import type { ResolvedRoute } from '../routing/router.js';
import type { Inbound } from './inbound.js';

/**
 * OpenAI-format streams report usage only when asked (`stream_options.include_usage`), and the
 * OpenAI SDK does not ask by default: such a request was recorded with 0 tokens and $0. The
 * gateway asks for it on the client's behalf and takes the usage chunk out of what the client
 * receives, so the client gets the stream it asked for and the record its tokens.
 */
export function addsStreamUsage(inb: Inbound, route: ResolvedRoute): boolean {
  return route.format === 'openai' && inb.clientFormat === 'openai' && inb.endpoint === 'chat_completions' && inb.body.stream === true && inb.body.stream_options === undefined;
}

/** The raw body with `"stream_options":{"include_usage":true}` added as its last member (the rest as sent). */
export function withStreamUsage(raw: string): string | undefined {
  const end = raw.lastIndexOf('}');
  if (end < 0) return undefined;
  const before = raw.slice(0, end).trimEnd();
  return `${before}${before.endsWith('{') ? '' : ','}"stream_options":{"include_usage":true}${raw.slice(end)}`;
}

/** The usage chunk: no choices, a usage object (Azure's first chunk has no choices either, and no usage). */
const USAGE_CHUNK = /"choices"\s*:\s*\[\s*\][\s\S]*"usage"\s*:\s*\{|"usage"\s*:\s*\{[\s\S]*"choices"\s*:\s*\[\s*\]/;

/**
 * Whole SSE events as the client would have had them without include_usage: no usage chunk, and
 * no `"usage":null` that OpenAI then adds at the end of every other chunk (outside a JSON string
 * a quote is never escaped, so the pattern cannot match inside content).
 */
export function withoutUsageChunk(events: Buffer): Buffer {
  const text = events.toString('utf8');
  if (!text.includes('"usage"')) return events;
  const kept = text.split(/(?<=\r\n\r\n|\n\n|\r\r)/).filter((e) => !USAGE_CHUNK.test(e));
  return Buffer.from(kept.join('').replace(/,"usage":null\}/g, '}'));
}
