import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const CLAUDE_NAMES = ['claude', 'claude-code', 'claude-ai'] as const;

/** The Claude Code executable: `CCO_CLAUDE_BIN`, else `claude`, `claude-code`, `claude-ai` on PATH. */
export function findClaude(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CCO_CLAUDE_BIN) return isExecutable(env.CCO_CLAUDE_BIN) ? env.CCO_CLAUDE_BIN : undefined;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of CLAUDE_NAMES) {
    for (const dir of dirs) {
      const p = join(dir, name);
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const CLAUDE_NOT_FOUND = `Claude Code executable not found in PATH (looked for ${CLAUDE_NAMES.join(', ')})
Please install Claude Code first: https://claude.ai/code
   Install it: npm install -g @anthropic-ai/claude-code
   Then check: which claude
   Or point CCO at it: export CCO_CLAUDE_BIN=/path/to/claude`;
