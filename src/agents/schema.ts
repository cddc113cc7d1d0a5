import { z } from 'zod';

/**
 * Tools Claude Code knows by name. A typo here would silently take a tool away from a subagent,
 * so unknown names are rejected; MCP tools (`mcp__<server>__<tool>`) are allowed as such.
 */
export const CLAUDE_CODE_TOOLS = [
  'Agent',
  'Bash',
  'BashOutput',
  'Edit',
  'Glob',
  'Grep',
  'KillShell',
  'LS',
  'MultiEdit',
  'NotebookEdit',
  'NotebookRead',
  'Read',
  'Skill',
  'Task',
  'TaskCreate',
  'TaskGet',
  'TaskList',
  'TaskOutput',
  'TaskStop',
  'TaskUpdate',
  'TodoWrite',
  'WebFetch',
  'WebSearch',
  'Write',
] as const;
const KNOWN_TOOLS = new Set<string>(CLAUDE_CODE_TOOLS);
const MCP_TOOL = /^mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+$/;

export const MODEL_TIERS = ['opus', 'sonnet', 'haiku'] as const;
/** A tier, `inherit` (Claude Code: use the parent's model), or a full model id. */
const MODEL = /^(opus|sonnet|haiku|inherit|claude-[a-z0-9.-]+)$/;
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

const kebab = (what: string) => z.string().regex(KEBAB, `${what} must be kebab-case (lowercase letters, digits and single dashes)`);
const topic = z.string().regex(SNAKE, 'event types are snake_case (e.g. implementation_complete)');
const glob = z
  .string()
  .min(1)
  .max(200)
  .refine((g) => !g.startsWith('/') && !g.split('/').includes('..'), 'globs are relative to the project and never climb out of it (no leading / or ..)');

/** `tools` as Claude Code writes it (`Read, Grep, Bash`) or as a YAML list. */
const tools = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((t) => t.trim()).filter((t) => t.length > 0))
  .pipe(
    z
      .array(z.string().refine((t) => KNOWN_TOOLS.has(t) || MCP_TOOL.test(t), { error: (i) => `unknown Claude Code tool ${JSON.stringify(i.input)} (known: ${CLAUDE_CODE_TOOLS.join(', ')}, or mcp__<server>__<tool>)` }))
      .min(1, 'list at least one tool')
      .refine((l) => new Set(l).size === l.length, 'a tool is listed twice'),
  );

const unique = <T extends z.ZodType<string>>(item: T, what: string) =>
  z.array(item).refine((l) => new Set(l).size === l.length, `a ${what} is listed twice`);

/** The YAML front matter of an `agents/*.md` file. Unknown keys are errors (they are typos). */
export const agentFrontMatterSchema = z.strictObject({
  name: kebab('name'),
  description: z.string().trim().min(40, 'say when to use this agent (at least 40 characters): Claude Code picks subagents by it').max(600),
  tools,
  model: z.string().regex(MODEL, 'model must be opus, sonnet, haiku, inherit or a claude-* model id'),
  category: kebab('category'),
  context: z.strictObject({
    include: unique(glob, 'glob').min(1, 'list at least one glob of relevant files'),
    exclude: unique(glob, 'glob').optional(),
    upstream: unique(kebab('an upstream agent type'), 'upstream agent').optional(),
    max_bytes: z.number().int().min(4_096).max(2_000_000).optional(),
  }),
  topics: z.strictObject({
    subscribe: unique(topic, 'topic').default([]),
    publish: unique(topic, 'topic').min(1, 'an agent publishes at least one event so that others know it finished'),
  }),
});

export type AgentFrontMatter = z.output<typeof agentFrontMatterSchema>;
