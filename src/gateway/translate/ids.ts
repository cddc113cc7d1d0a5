import { randomUUID } from 'node:crypto';

/** An Anthropic tool_use id for a call its provider gave none (Anthropic's clients answer each by its id). */
export function newToolUseId(): string {
  return `toolu_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}
