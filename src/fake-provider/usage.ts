import type { FakeReply, FakeUsage } from './types.js';

/** A rough token count (4 characters a token), enough for usage and cost plumbing. */
export function approxTokens(value: unknown): number {
  const s = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return Math.max(1, Math.ceil(s.length / 4));
}

export function usageOf(reply: FakeReply, requestBody: unknown): FakeUsage {
  const b = (requestBody ?? {}) as { messages?: unknown; system?: unknown; tools?: unknown };
  const out = approxTokens(`${reply.thinking ?? ''}${reply.text ?? ''}${JSON.stringify(reply.toolUse ?? '')}`);
  return {
    input_tokens: reply.usage?.input_tokens ?? approxTokens([b.system, b.messages, b.tools]),
    output_tokens: reply.usage?.output_tokens ?? out,
    cache_read_input_tokens: reply.usage?.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: reply.usage?.cache_creation_input_tokens ?? 0,
  };
}

export function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

let counter = 0;
export const fakeId = (prefix: string): string => `${prefix}_fake${Date.now().toString(36)}${(++counter).toString(36)}`;
