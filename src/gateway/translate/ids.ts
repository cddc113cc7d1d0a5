import { randomUUID } from 'node:crypto';

/** An Anthropic tool_use id for a call its provider gave none (Anthropic's clients answer each by its id). */
export function newToolUseId(): string {
  return `toolu_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

/**
 * Gemini 3 (OpenAI-compatible API) signs each tool call (`extra_content.google.thought_signature`)
 * and refuses the next turn ("Function call is missing a thought_signature") unless the
 * assistant's tool call carries it back. An Anthropic client keeps nothing but the tool_use id,
 * which it sends back verbatim (in the assistant turn and in its tool_result): the signature
 * rides in the id, base64url after this mark, so no state is kept and any instance can put it back.
 */
const SIGNATURE_MARK = '__sig_';

/** The tool_use id for a provider's call id and its signature, if it has one. */
export function toolUseIdWith(id: string, signature: unknown): string {
  return typeof signature === 'string' && signature ? `${id}${SIGNATURE_MARK}${Buffer.from(signature).toString('base64url')}` : id;
}

/** The provider's call id and signature back from a tool_use id. */
export function fromToolUseId(id: string): { id: string; signature?: string } {
  const at = id.indexOf(SIGNATURE_MARK);
  if (at < 0) return { id };
  return { id: id.slice(0, at), signature: Buffer.from(id.slice(at + SIGNATURE_MARK.length), 'base64url').toString('utf8') };
}

/** The signature a provider's tool call carries (Gemini 3's `extra_content.google.thought_signature`). */
export function signatureOf(call: unknown): string | undefined {
  const sig = (call as { extra_content?: { google?: { thought_signature?: unknown } } } | null)?.extra_content?.google?.thought_signature;
  return typeof sig === 'string' && sig ? sig : undefined;
}
