import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic-file.js';
import { MCP_TOOLS, mcpToolName } from './coordination.js';
import type { AgentDefinition } from './types.js';

export interface ClaudeExportOptions {
  /**
   * Add the `cco` MCP server's coordination tools to each agent's tool list (default true).
   * A subagent with a `tools` list gets only those tools, so without this it could not call
   * `get_context` & co. even when Claude Code was given the server.
   */
  mcpTools?: boolean;
}

/** The first line of every exported body: marks the file as ours (safe to overwrite). */
export const EXPORT_MARKER = '<!-- cco:exported';

function toolsOf(a: AgentDefinition, opts: ClaudeExportOptions): string[] {
  if (opts.mcpTools === false) return [...a.tools];
  const extra = MCP_TOOLS.map(mcpToolName).filter((t) => !a.tools.includes(t));
  return [...a.tools, ...extra];
}

/**
 * A Claude Code subagent file (`.claude/agents/<name>.md`): front matter with only the fields
 * Claude Code reads (name, description, tools, model); CCO's own fields are already part of
 * the prompt (its coordination section names the events, upstream agents and relevant files).
 */
export function toClaudeCodeMarkdown(a: AgentDefinition, opts: ClaudeExportOptions = {}): string {
  const fm = stringify({ name: a.name, description: a.description, tools: toolsOf(a, opts).join(', '), model: a.model }, { lineWidth: 0 });
  const note = `${EXPORT_MARKER} from the CCO agent catalog (category: ${a.category}). Edit agents/${a.name}.md in CCO, then run: cco agents export -->`;
  return `---\n${fm}---\n\n${note}\n\n${a.prompt.trim()}\n`;
}

/** One agent as Claude Code's `--agents` flag takes it. */
export interface ClaudeAgentJson {
  description: string;
  prompt: string;
  tools?: string[];
  model?: string;
}

/** The JSON object for `claude --agents '<json>'`: `{"<name>": {description, prompt, tools, model}}`. */
export function toClaudeAgentsJson(defs: readonly AgentDefinition[], opts: ClaudeExportOptions = {}): Record<string, ClaudeAgentJson> {
  const out: Record<string, ClaudeAgentJson> = {};
  for (const a of defs) out[a.name] = { description: a.description, prompt: a.prompt, tools: toolsOf(a, opts), model: a.model };
  return out;
}

export interface ExportAgentsOptions extends ClaudeExportOptions {
  /** Project folder; files go to `<dir>/.claude/agents/`. */
  dir: string;
  /** Overwrite files in the folder that were not exported by CCO (default false: skip them). */
  force?: boolean;
}

export interface ExportReport {
  /** The `.claude/agents` folder written to. */
  agentsDir: string;
  written: string[];
  /** Files left alone: they exist and were not written by CCO (use force to replace them). */
  skipped: string[];
  /** Files that could not be written (a read-only folder, a folder of that name), with why. */
  failed: { file: string; error: string }[];
}

/** The `.claude/agents` folder could not be made: nothing was written. */
export class AgentExportError extends Error {}

/**
 * Writes `<dir>/.claude/agents/<name>.md` for each agent, each file atomically. `dir` must be an
 * existing folder (the project): only `.claude/agents` inside it is created, so that a mistyped
 * path fails instead of quietly growing a new tree that Claude Code never reads.
 */
export function exportAgents(defs: readonly AgentDefinition[], opts: ExportAgentsOptions): ExportReport {
  const project = resolve(opts.dir);
  assertProjectFolder(project);
  const agentsDir = join(project, '.claude', 'agents');
  try {
    mkdirSync(agentsDir, { recursive: true });
  } catch (e) {
    throw new AgentExportError(`Cannot create ${agentsDir}: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim());
  }
  const report: ExportReport = { agentsDir, written: [], skipped: [], failed: [] };
  for (const a of defs) {
    const file = join(agentsDir, `${a.name}.md`);
    try {
      if (!opts.force && existsSync(file) && !readFileSync(file, 'utf8').includes(EXPORT_MARKER)) {
        report.skipped.push(file);
        continue;
      }
      writeFileAtomic(file, toClaudeCodeMarkdown(a, opts), 0o644);
      report.written.push(file);
    } catch (e) {
      // one file that cannot be written does not stop the others; the report says which and why
      report.failed.push({ file, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
    }
  }
  return report;
}

function assertProjectFolder(project: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(project).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AgentExportError(`Project folder ${project} does not exist: agents are exported into an existing project (check the path, or create the folder first).`);
    throw new AgentExportError(`Cannot read the project folder ${project}: ${code ?? (e as Error).message}`);
  }
  if (!isDir) throw new AgentExportError(`${project} is not a folder: name the project folder that gets .claude/agents.`);
}
