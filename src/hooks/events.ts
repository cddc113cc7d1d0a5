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
