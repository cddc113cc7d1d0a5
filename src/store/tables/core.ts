import type { Generated } from 'kysely';

/** One Claude Code hook event as the daemon received it (PreToolUse, SubagentStop, ...). */
export interface HookEventsTable {
  id: Generated<number>;
  received_at: number; // epoch ms
  event: string;
  session_id: string | null;
  tool_name: string | null;
  tool_use_id: string | null;
  agent_id: string | null;
  agent_type: string | null;
  cwd: string | null;
  decision: string | null;
  payload: string; // JSON, secrets redacted
}

export interface CoreTables {
  hook_events: HookEventsTable;
}
