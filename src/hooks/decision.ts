/**
 * PreToolUse permission decisions from the launcher's two flags:
 * `ORCHESTRATOR_AUTO_ALLOW_READ` (read-only tools run without asking) and
 * `ORCHESTRATOR_REQUIRE_CUD_CONFIRMATION` (create/update/delete tools ask first).
 * Anything else gets no decision, so Claude Code's own permission rules apply.
 */
export type ToolKind = 'read' | 'cud' | 'other';
export type PermissionDecision = 'allow' | 'ask' | 'deny';

const READ_TOOLS = new Set(['Read', 'Glob', 'Grep', 'LS', 'WebFetch', 'WebSearch', 'NotebookRead', 'TodoRead', 'TodoWrite', 'Task', 'Agent', 'BashOutput', 'ListMcpResourcesTool', 'ReadMcpResourceTool']);
const CUD_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit', 'Bash', 'KillShell', 'KillBash']);

export function classifyTool(name: string): ToolKind {
  if (READ_TOOLS.has(name)) return 'read';
  if (CUD_TOOLS.has(name)) return 'cud';
  return 'other';
}

export interface PermissionFlags {
  autoAllowRead: boolean;
  requireCudConfirmation: boolean;
}

export function decide(toolName: string, flags: PermissionFlags): { decision: PermissionDecision; reason: string } | undefined {
  const kind = classifyTool(toolName);
  if (kind === 'read' && flags.autoAllowRead) return { decision: 'allow', reason: `CCO: read-only tool ${toolName} allowed automatically` };
  if (kind === 'cud' && flags.requireCudConfirmation) return { decision: 'ask', reason: `CCO: ${toolName} changes files or runs commands; confirmation required` };
  return undefined;
}

/** The JSON a PreToolUse hook answers with (Claude Code's hookSpecificOutput form). */
export function preToolUseOutput(d: { decision: PermissionDecision; reason: string } | undefined): Record<string, unknown> {
  if (!d) return {};
  return {
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: d.decision,
      permissionDecisionReason: d.reason,
    },
  };
}
