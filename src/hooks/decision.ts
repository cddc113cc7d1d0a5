import { lstatSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path';

/**
 * PreToolUse permission decisions from the launcher's two flags:
 * `ORCHESTRATOR_AUTO_ALLOW_READ` (read-only tools run without asking, file reads only inside
 * the session's project) and `ORCHESTRATOR_REQUIRE_CUD_CONFIRMATION` (create/update/delete
 * tools ask first). Anything else gets no decision, so Claude Code's own permission rules apply.
 */
export type ToolKind = 'read' | 'cud' | 'network' | 'other';
export type PermissionDecision = 'allow' | 'ask' | 'deny';

const READ_TOOLS = new Set(['Read', 'Glob', 'Grep', 'LS', 'NotebookRead', 'TodoRead', 'TodoWrite', 'Task', 'Agent', 'BashOutput', 'ListMcpResourcesTool', 'ReadMcpResourceTool']);
const CUD_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit', 'Bash', 'KillShell', 'KillBash']);
// They read, but they send the model's chosen URL or query out: never allowed on the user's behalf.
const NETWORK_TOOLS = new Set(['WebFetch', 'WebSearch']);

/** Read tools that take file paths: the input fields holding a path, and those holding a glob. */
const PATH_FIELDS: Record<string, { paths: string[]; globs: string[] }> = {
  Read: { paths: ['file_path'], globs: [] },
  NotebookRead: { paths: ['notebook_path'], globs: [] },
  LS: { paths: ['path'], globs: [] },
  Glob: { paths: ['path'], globs: ['pattern'] },
  Grep: { paths: ['path'], globs: ['glob'] },
};

export function classifyTool(name: string): ToolKind {
  if (READ_TOOLS.has(name)) return 'read';
  if (CUD_TOOLS.has(name)) return 'cud';
  if (NETWORK_TOOLS.has(name)) return 'network';
  return 'other';
}

export interface PermissionFlags {
  autoAllowRead: boolean;
  requireCudConfirmation: boolean;
}

/** What the hook payload says about the call: the session's directory and the tool's input. */
export interface ToolCall {
  cwd?: string | undefined;
  toolInput?: unknown;
}

export function decide(toolName: string, flags: PermissionFlags, call: ToolCall = {}): { decision: PermissionDecision; reason: string } | undefined {
  const kind = classifyTool(toolName);
  if (kind === 'read' && flags.autoAllowRead) {
    // A file read outside the project (or one we cannot place) is left to Claude Code's own checks.
    const fields = PATH_FIELDS[toolName];
    if (fields && !insideProject(fields, call)) return undefined;
    return { decision: 'allow', reason: `CCO: read-only tool ${toolName} allowed automatically` };
  }
  if (kind === 'cud' && flags.requireCudConfirmation) return { decision: 'ask', reason: `CCO: ${toolName} changes files or runs commands; confirmation required` };
  return undefined;
}

/** Whether every path the call names lies inside `cwd`, with symlinks resolved. */
function insideProject(fields: { paths: string[]; globs: string[] }, call: ToolCall): boolean {
  const input = call.toolInput;
  if (!call.cwd || !isAbsolute(call.cwd) || typeof input !== 'object' || input === null) return false;
  const project = realPath(call.cwd);
  // A session started at /, in the home folder or above it (/home, /Users) would make ~/.ssh
  // "the project".
  if (!project || project === parse(project).root || holds(project, realPath(homedir()))) return false;
  const values = input as Record<string, unknown>;
  for (const f of fields.globs) {
    const g = values[f];
    if (g === undefined) continue;
    if (typeof g !== 'string' || isAbsolute(g) || g.startsWith('~') || hasDotDot(g)) return false;
  }
  for (const f of fields.paths) {
    const p = values[f];
    if (p === undefined && f === 'path' && fields.globs.length) continue; // Glob/Grep default to cwd
    // `~` is not expanded here, and `..` after a symlink goes where the link points, not back.
    if (typeof p !== 'string' || p === '' || p.startsWith('~') || hasDotDot(p)) return false;
    const target = realPath(resolve(call.cwd, p));
    if (!target) return false;
    if (!holds(project, target)) return false;
    // credentials kept in a project (a checked-in .ssh, .aws, .gnupg) are never read unasked
    if (relative(project, target).split(sep).some((part) => SECRET_FOLDERS.has(part))) return false;
  }
  return true;
}

/** Folders of credentials, wherever they are. */
const SECRET_FOLDERS = new Set(['.ssh', '.aws', '.gnupg', '.docker', '.kube', '.azure', '.netrc', '.pgpass', '.npmrc']);

/** Whether `inner` is `outer` or inside it. */
function holds(outer: string, inner: string | undefined): boolean {
  if (inner === undefined) return false;
  const rel = relative(outer, inner);
  return !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

const hasDotDot = (p: string): boolean => p.split(/[\\/]/).includes('..');

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (a file not yet there). */
function realPath(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch (e) {
    // a dangling symlink is not "a file not yet there": where it points is unknown
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || lexists(p)) return undefined;
    const parent = dirname(p);
    if (parent === p) return undefined;
    const base = realPath(parent);
    return base === undefined ? undefined : join(base, p.slice(parent.length).replace(/^[\\/]+/, ''));
  }
}

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
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
