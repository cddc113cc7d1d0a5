import type { AgentDefinition } from './types.js';

/**
 * The coordination section every agent's prompt carries: how to reach the sidecar (MCP tools
 * first, HTTP otherwise), which events start it and which it publishes. It is rendered from the
 * agent's own fields so that all 119 files say the same thing the same way; the files hold it
 * between these markers and `npx tsx src/agents/sync-coordination.ts` rewrites it.
 */
export const COORDINATION_START = '<!-- cco:coordination:start (generated from the front matter; edit with src/agents/coordination.ts) -->';
export const COORDINATION_END = '<!-- cco:coordination:end -->';
const BLOCK = /<!-- cco:coordination:start[^\n]*-->\n?[\s\S]*?<!-- cco:coordination:end -->\n?/;

/** The MCP server name Claude Code is given for the daemon (`--mcp-config`), and its tools. */
export const MCP_SERVER = 'cco';
export const MCP_TOOLS = ['get_context', 'store_result', 'publish_event', 'wait_for_event'] as const;
export const mcpToolName = (tool: string): string => `mcp__${MCP_SERVER}__${tool}`;

/**
 * Events an agent publishes every time it finishes, next to the one of its other events that
 * fits: the orchestrator guide's generic names (`agent_completed` from an implementer,
 * `testing_complete` from a tester, whether the tests passed or not), which its flow waits on.
 */
export const ALWAYS_PUBLISHED: ReadonlySet<string> = new Set(['agent_completed', 'testing_complete']);

type CoordinationInput = Pick<AgentDefinition, 'name' | 'context' | 'topics'>;

const code = (s: string): string => `\`${s}\``;
const list = (items: readonly string[]): string => items.map(code).join(', ');

/** The coordination section for one agent (Markdown, without markers). */
export function renderCoordination(a: CoordinationInput): string {
  const [first, ...others] = a.topics.subscribe;
  const upstream = a.context.upstream ?? [];
  const lines: string[] = [
    '## Working inside the CCO orchestra',
    '',
    `You run as agent type ${code(a.name)}. The orchestrator gives you an issue id (below: \`<issue>\`); it scopes your token and is the \`topic\` of every event you publish or wait for.`,
    '',
    `Prefer the MCP tools of the \`${MCP_SERVER}\` server when you have them (${MCP_TOOLS.map((t) => code(mcpToolName(t))).join(', ')}). Otherwise call the sidecar over HTTP with curl: base URL \`$ORCHESTRATOR_SIDECAR_URL\`, header \`Authorization: Bearer $ORCHESTRATOR_AGENT_TOKEN\`, JSON bodies. If \`ORCHESTRATOR_SIDECAR_URL\` is unset you are running outside CCO: skip these steps and report in your final answer only.`,
    '',
  ];
  let n = 1;
  if (first) {
    const also = others.length > 0 ? ` (also woken by ${list(others)})` : '';
    lines.push(
      `${n++}. **Wait for your trigger**: ${code(first)}${also}. \`wait_for_event\` (event type ${code(first)}, topic \`<issue>\`), or \`GET /api/events/wait/${first}?filter=topic:<issue>&timeout=60000\`; it returns at once when the event already happened. Skip waiting when the orchestrator says the prerequisite is done; on a timeout, check the other triggers with \`timeout=1000\`, then go on with what your context shows and say so in your result. When the event's \`data.status\` is \`failed\` or \`blocked\`, do not build on it: store a \`blocked\` result that says why, publish, and stop.`,
    );
  }
  lines.push(
    `${n++}. **Get your context**: \`get_context\` (issue \`<issue>\`, agent type ${code(a.name)}, root: the value of \`$ORCHESTRATOR_PROJECT_ROOT\` when it is set), or \`GET /api/context/<issue>/${a.name}?root=$ORCHESTRATOR_PROJECT_ROOT\`. It holds the project structure, the files that matter to you (${list(a.context.include.slice(0, 6))}${a.context.include.length > 6 ? ', ...' : ''}), ${upstream.length > 0 ? `decisions and results of ${list(upstream)}` : 'earlier decisions and results for the issue'}, recent git history and project metadata. With curl (errors show their JSON body): \`curl -sS --fail-with-body -H "Authorization: Bearer $ORCHESTRATOR_AGENT_TOKEN" "$ORCHESTRATOR_SIDECAR_URL/api/context/<issue>/${a.name}?root=$ORCHESTRATOR_PROJECT_ROOT"\`. Read it before you touch anything, and respect decisions already made unless you record why you depart from them.`,
    `${n++}. **Do the work** described above.`,
    `${n++}. **Store your result** before you announce it: \`store_result\`, or \`POST /api/results\` with \`{"agent_id": "${a.name}-<issue>", "agent_type": "${a.name}", "issue_id": "<issue>", "result": {"status": "success" | "partial" | "failed" | "blocked", "summary": "...", "decisions": ["..."], "files_created": ["..."], "files_modified": ["..."], "findings": [...]}}\`.`,
    `${n++}. **Publish** ${publishStep(a)}`,
    '',
    'Keep results and events factual and small (paths, decisions, numbers, not whole files). Never put secrets, tokens or credentials in them.',
  );
  return lines.join('\n');
}

/** Step "Publish": the outcome event that fits, then the events published whatever the outcome. */
function publishStep(a: CoordinationInput): string {
  const pub = a.topics.publish;
  const always = pub.filter((t) => ALWAYS_PUBLISHED.has(t));
  const outcomes = always.length < pub.length ? pub.filter((t) => !ALWAYS_PUBLISHED.has(t)) : [];
  const choice = outcomes.length > 1 ? `the event that fits (${list(outcomes)})` : outcomes.length === 1 ? code(outcomes[0] ?? '') : '';
  const what =
    always.length === 0 ? choice : choice ? `${choice}, then ${list(always)} as well, whatever the outcome (same data)` : list(always);
  const single = pub.length === 1 ? (pub[0] ?? '') : '<type>';
  const body = `{"publisher": "${a.name}", "topic": "<issue>", "issue_id": "<issue>", "data": {"status": "...", "summary": "...", "files": ["..."]}}`;
  return `${what}: \`publish_event\` (topic and issue_id \`<issue>\`), or \`POST /api/events/${single}\` with \`${body}\`. Others wait on ${(choice ? 1 : 0) + always.length > 1 ? 'them' : 'it'}, so publish even when you fail: the data says what went wrong.`;
}

/** The section with its markers, as stored in the files. */
export function coordinationBlock(a: CoordinationInput): string {
  return `${COORDINATION_START}\n${renderCoordination(a)}\n${COORDINATION_END}\n`;
}

/** The file text with its coordination section replaced (or appended when it has none). */
export function withCoordination(fileText: string, a: CoordinationInput): string {
  const block = coordinationBlock(a);
  if (BLOCK.test(fileText)) return fileText.replace(BLOCK, () => block);
  return `${fileText.replace(/\s*$/, '')}\n\n${block}`;
}

/** The section as found in a file body, or undefined. */
export function extractCoordination(text: string): string | undefined {
  return BLOCK.exec(text)?.[0];
}

/** The body without the marker comments (the section's text stays). */
export function stripCoordinationMarkers(body: string): string {
  return body.replace(/^<!-- cco:coordination:(start|end)[^\n]*-->\n?/gm, '');
}
