import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import type { AgentIssue } from './errors.js';
import { stripCoordinationMarkers } from './coordination.js';
import { agentFrontMatterSchema } from './schema.js';
import type { AgentDefinition } from './types.js';

/** `---\n<yaml>\n---\n<body>`; CRLF tolerated. */
const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** Splits a Markdown file into its YAML front matter and body, or undefined without one. */
export function splitFrontMatter(text: string): { yaml: string; body: string } | undefined {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const m = FRONT_MATTER.exec(t);
  if (!m) return undefined;
  return { yaml: m[1] ?? '', body: t.slice(m[0].length) };
}

export type ParseOutcome = { ok: true; agent: AgentDefinition } | { ok: false; issues: AgentIssue[] };

/**
 * Parses and validates one agent file. `file` names it in issues; the name must match the file
 * name (`python-specialist.md` holds `name: python-specialist`) so that a file can be found
 * from an agent type and vice versa.
 */
export function parseAgentFile(text: string, file: string): ParseOutcome {
  const split = splitFrontMatter(text);
  if (!split) return fail(file, '(front matter)', 'missing YAML front matter: the file must start with a line "---", the YAML fields, and a closing "---"');
  const doc = parseDocument(split.yaml, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        // +1: the front matter starts on the file's second line
        const pos = e.linePos?.[0];
        const where = pos ? ` (line ${pos.line + 1}, column ${pos.col})` : '';
        return { file, field: '(front matter)', message: `YAML error${where}: ${(e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    };
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail(file, '(front matter)', 'the front matter must be a YAML mapping of fields (name, description, tools, ...)');
  const res = agentFrontMatterSchema.safeParse(raw);
  if (!res.success) return { ok: false, issues: zodIssues(file, res.error) };
  const fm = res.data;
  const issues: AgentIssue[] = [];
  const expected = file.replace(/\.md$/, '');
  if (fm.name !== expected) issues.push({ file, field: 'name', message: `name ${JSON.stringify(fm.name)} does not match the file name: rename the file to ${fm.name}.md or the agent to ${expected}` });
  const prompt = stripCoordinationMarkers(split.body).trim();
  if (prompt.length < 200) issues.push({ file, field: '(body)', message: 'the body is the system prompt: describe the role, how it works and what it outputs (at least 200 characters)' });
  const selfLoop = fm.topics.subscribe.filter((t) => fm.topics.publish.includes(t));
  if (selfLoop.length > 0) issues.push({ file, field: 'topics.subscribe', message: `subscribes to ${selfLoop.join(', ')}, which it also publishes: it would wake itself` });
  if (fm.context.upstream?.includes(fm.name)) issues.push({ file, field: 'context.upstream', message: 'an agent is not its own upstream' });
  if (issues.length > 0) return { ok: false, issues };
  const agent: AgentDefinition = {
    name: fm.name,
    description: fm.description,
    tools: fm.tools,
    model: fm.model,
    category: fm.category,
    context: {
      include: fm.context.include,
      ...(fm.context.exclude ? { exclude: fm.context.exclude } : {}),
      ...(fm.context.upstream ? { upstream: fm.context.upstream } : {}),
      ...(fm.context.max_bytes !== undefined ? { max_bytes: fm.context.max_bytes } : {}),
    },
    topics: { subscribe: fm.topics.subscribe, publish: fm.topics.publish },
    prompt,
    source: file,
  };
  return { ok: true, agent };
}

function fail(file: string, field: string, message: string): ParseOutcome {
  return { ok: false, issues: [{ file, field, message }] };
}

/** zod issues as `field: message`, the field as a dotted path with list indexes. */
function zodIssues(file: string, err: ZodError): AgentIssue[] {
  return err.issues.map((i) => {
    let field = '';
    for (const p of i.path) field += typeof p === 'number' ? `[${p}]` : `${field ? '.' : ''}${String(p)}`;
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
    if (i.code === 'invalid_type' && /received undefined/.test(i.message)) message = 'required field is missing';
    return { file, field: field || '(front matter)', message };
  });
}
