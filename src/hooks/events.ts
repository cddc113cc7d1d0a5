/** The Claude Code hook events the daemon listens to. */
export const HOOK_EVENTS = [
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'UserPromptSubmit',
  'Notification',
  'Stop',
  'StopFailure',
  'SubagentStart',
  'SubagentStop',
  'SessionStart',
  'SessionEnd',
  'PreCompact',
] as const;

export type HookEventName = (typeof HOOK_EVENTS)[number];

export function isHookEvent(s: string): s is HookEventName {
  return (HOOK_EVENTS as readonly string[]).includes(s);
}

/** Events whose hook entry takes a tool-name matcher. */
export const TOOL_EVENTS: readonly HookEventName[] = ['PreToolUse', 'PostToolUse', 'PostToolUseFailure'];

/** Largest stored size (UTF-8 bytes) of one payload field, e.g. a PostToolUse `tool_response`. */
export const STORED_FIELD_MAX_BYTES = 64 * 1024;

/**
 * The payload as it is stored: each top-level field whose text (a string, or an object's JSON)
 * is larger than `maxBytes` becomes a string of that text's first `maxBytes`, cut at a character
 * boundary and ending with a marker of the bytes cut. Only the stored copy is cut: the
 * decision and the live views see the whole hook input.
 */
export function storedPayload(payload: Record<string, unknown>, maxBytes = STORED_FIELD_MAX_BYTES): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(payload)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most fields are decided without measuring
    if (text === undefined || text.length * 3 <= maxBytes) continue;
    const bytes = Buffer.byteLength(text);
    if (bytes <= maxBytes) continue;
    const head = new Uint8Array(maxBytes);
    // encodeInto writes whole characters only: `read` is where the kept text ends
    const { read, written } = new TextEncoder().encodeInto(text, head);
    out ??= { ...payload };
    out[k] = `${text.slice(0, read)}…[truncated: ${bytes - written} of ${bytes} bytes cut]`;
  }
  return out ?? payload;
}
