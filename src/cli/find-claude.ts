import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const CLAUDE_NAMES = ['claude', 'claude-code', 'claude-ai'] as const;

/**
 * The Claude Code executable: `CCO_CLAUDE_BIN`, else `claude`, `claude-code`, `claude-ai` on PATH.
 * A file only (a folder named `claude` earlier on PATH is passed over), and never cco itself
 * (`self`: the real path of the running entry): a `claude` linked to cco, to have every session go
 * through it, launched cco again and again without end.
 */
export function findClaude(env: NodeJS.ProcessEnv = process.env, self: string | undefined = ownEntry()): string | undefined {
  if (env.CCO_CLAUDE_BIN) return isExecutableFile(env.CCO_CLAUDE_BIN) ? env.CCO_CLAUDE_BIN : undefined;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of CLAUDE_NAMES) {
    for (const dir of dirs) {
      const p = join(dir, name);
      if (isExecutableFile(p) && (self === undefined || realPath(p) !== self)) return p;
    }
  }
  return undefined;
}

function ownEntry(): string | undefined {
  return process.argv[1] ? realPath(process.argv[1]) : undefined;
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export const CLAUDE_NOT_FOUND = `Claude Code executable not found in PATH (looked for ${CLAUDE_NAMES.join(', ')})
Please install Claude Code first: https://claude.ai/code
   Install it: npm install -g @anthropic-ai/claude-code
   Then check: which claude
   Or point CCO at it: export CCO_CLAUDE_BIN=/path/to/claude`;

/** What to say when Claude Code is not found: `CCO_CLAUDE_BIN` names no executable file, or nothing on PATH. */
export function claudeMissing(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CCO_CLAUDE_BIN) return `CCO_CLAUDE_BIN=${env.CCO_CLAUDE_BIN} is not an executable file\n   Point it at Claude Code (which claude), or unset it to look on PATH: unset CCO_CLAUDE_BIN`;
  return CLAUDE_NOT_FOUND;
}
