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
 * The payload as it is stored: in each top-level field whose text (a string, or an object's
 * JSON) is larger than `maxBytes`, the strings longer than that are cut to their first
 * `maxBytes`, at a character boundary, ending with a marker of the bytes cut (a field of many
 * short strings is cut whole, as text). Only the stored copy is cut: the
 * decision and the live views see the whole hook input.
 */
export function storedPayload(payload: Record<string, unknown>, maxBytes = STORED_FIELD_MAX_BYTES): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(payload)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most fields are decided without measuring
    if (text === undefined || text.length * 3 <= maxBytes) continue;
    if (Buffer.byteLength(text) <= maxBytes) continue;
    out ??= { ...payload };
    // the long strings inside are cut, so that `tool_input.file_path` and the like stay readable;
    // a field still too large (thousands of short items) is cut whole, as text
    const leaves = typeof v === 'string' ? undefined : cutLeaves(v, maxBytes, 0);
    const leavesText = leaves === undefined ? undefined : JSON.stringify(leaves);
    out[k] = leavesText !== undefined && Buffer.byteLength(leavesText) <= 2 * maxBytes ? leaves : cutText(text, maxBytes);
  }
  return out ?? payload;
}

/** `text`'s first `maxBytes` bytes, cut at a character boundary, with a marker of the bytes cut. */
function cutText(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return text;
  const head = new Uint8Array(maxBytes);
  // encodeInto writes whole characters only: `read` is where the kept text ends
  const { read, written } = new TextEncoder().encodeInto(text, head);
  return `${text.slice(0, read)}…[truncated: ${bytes - written} of ${bytes} bytes cut]`;
}

/** A copy with every string longer than `maxBytes` cut (`cutText`), the structure kept. */
function cutLeaves(v: unknown, maxBytes: number, depth: number): unknown {
  if (typeof v === 'string') return cutText(v, maxBytes);
  if (v === null || typeof v !== 'object' || depth > 32) return v;
  if (Array.isArray(v)) return v.map((x) => cutLeaves(x, maxBytes, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cutLeaves(x, maxBytes, depth + 1)]));
}
