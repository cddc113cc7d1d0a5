import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { resultInputSchema } from '../../sidecar/results.js';
import type { McpServices, Principal } from '../deps.js';
import { need, run } from './result.js';
import { agentIdSchema, topicSchema } from '../../sidecar/ids.js';

const id = z.string().min(1).max(128).describe('issue id: letters, digits, . _ - (e.g. "issue-42")');
const agentType = z.string().min(1).max(100).describe('kebab-case agent type from the catalog (see list_agents), e.g. "python-specialist"');
const eventType = z.string().min(1).max(100).describe('event type, e.g. "architecture_defined", "implementation_complete" or "tests_passed" (see each agent\'s topics in list_agents)');
const loose = z.record(z.string(), z.unknown());
// the sidecar's own rule for a publisher: a comma or space could never be published, nor filtered on
const publisher = agentIdSchema;

/** The sidecar's operations (`get_context`, `store_result`, `publish_event`, `wait_for_event`), scoped like an agent token. */
export function registerSidecarTools(server: McpServer, svc: McpServices, p: Principal): void {
  server.registerTool(
    'get_context',
    {
      title: 'Get agent context',
      description: 'The context an agent of `agent_type` needs for an issue: project structure (respecting .gitignore), relevant source files, previous agents\' decisions and results for the issue, recent git history. Bounded in size; cached until files change.',
      inputSchema: {
        issue_id: id,
        agent_type: agentType,
        query: z.string().max(4000).optional().describe('optional text to rank relevant files and knowledge'),
        root: z.string().max(4096).optional().describe('absolute path of the project folder (under cco: $ORCHESTRATOR_PROJECT_ROOT, the folder Claude Code runs in); default: the folder of this MCP session (under cco, the one Claude Code runs in), else the daemon\'s project root'),
      },
      outputSchema: z.looseObject({ context: loose }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ issue_id, agent_type, query, root = p.projectRoot }, extra) =>
      // the session's folder is checked against the allowed roots by the sidecar, as an explicit root is
      run(async () => ({ context: await need(svc.sidecar, 'the sidecar').getContext(p, { issue_id, agent_type, ...(query ? { query } : {}), ...(root ? { root } : {}) }, extra.signal) })),
  );

  server.registerTool(
    'store_result',
    {
      title: 'Store an agent result',
      description: 'Stores an agent\'s result for an issue durably (results/<issue>/<agent-type>.json and the knowledge index) before answering; a later result of the same agent type replaces it. Other agents see it in their context.',
      inputSchema: {
        issue_id: id,
        agent_type: agentType,
        agent_id: z.string().min(1).max(200).optional().describe('the storing agent\'s id (default: mcp-<tenant>)'),
        // The sidecar's own result schema: the same validation over MCP and REST.
        result: resultInputSchema.shape.result
          .describe('status, summary, decisions, files_created, files_modified, plus any other fields'),
      },
      outputSchema: z.looseObject({ status: z.string(), issue_id: z.string(), agent_type: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (a, extra) => run(() => need(svc.sidecar, 'the sidecar').storeResult(p, a, extra.signal)),
  );

  server.registerTool(
    'publish_event',
    {
      title: 'Publish an event',
      description: 'Publishes an event to the agents\' event bus (persisted; subscribers of the topic and wait_for_event callers receive it). Returns the stored event with its cursor.',
      inputSchema: {
        event_type: eventType,
        topic: topicSchema.optional().describe('topic: the catalog\'s agents use the issue id (e.g. "issue-42"), and wait with that topic'),
        issue_id: id.optional(),
        publisher: publisher.optional().describe('publishing agent id: letters, digits and . _ : @ - (default: mcp-<tenant>)'),
        data: z.unknown().optional().describe('any JSON payload'),
      },
      outputSchema: z.looseObject({ status: z.string(), id: z.number(), cursor: z.number(), event_type: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (a, extra) => run(() => need(svc.sidecar, 'the sidecar').publishEvent(p, a, extra.signal)),
  );

  server.registerTool(
    'wait_for_event',
    {
      title: 'Wait for an event',
      description: `Long-polls for events of a type after a cursor (no event is lost between two waits: pass the returned cursor as \`after\`). Returns at once when matching events exist, else waits up to timeout_ms, at most ${svc.maxWaitMs} ms per call (under the usual 60 s client request timeout); to wait longer, call again with the returned cursor as \`after\` while timed_out is true. With a progress token, progress is reported every ${Math.round(svc.progressIntervalMs / 1000)} s while it waits.`,
      inputSchema: {
        event_type: z.string().min(1).max(100).describe('event type, or "*" for any'),
        // the sidecar's own rule: a topic with a space or comma could never be published
        topic: topicSchema.optional(),
        publisher: publisher.optional(),
        issue_id: id.optional(),
        after: z.number().int().min(0).optional().describe('cursor of the last event seen (0 = from the start)'),
        timeout_ms: z.number().int().min(0).max(600_000).default(30_000).describe(`longest wait in milliseconds; above ${svc.maxWaitMs} the wait is ${svc.maxWaitMs}`),
      },
      outputSchema: z.looseObject({ events: z.array(loose), cursor: z.number().describe('pass as `after` next time'), timed_out: z.boolean() }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a, extra) =>
      run(async () => {
        const timeout = Math.min(a.timeout_ms, svc.maxWaitMs);
        // A client that asked for progress hears from a long wait (and, with resetTimeoutOnProgress,
        // waits past its own request timeout instead of failing the call).
        const token = extra._meta?.progressToken;
        const started = Date.now();
        let last = -1;
        const beat =
          token === undefined
            ? undefined
            : setInterval(() => {
                // progress never passes total (a timer may fire just after the wait's end) and only grows
                const progress = Math.min(Date.now() - started, timeout);
                if (progress <= last) return;
                last = progress;
                void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: timeout, message: 'waiting for the event' } }).catch(() => undefined);
              }, svc.progressIntervalMs);
        try {
          return withinBytes(await need(svc.sidecar, 'the sidecar').waitForEvent(p, { ...a, timeout_ms: timeout }, extra.signal));
        } finally {
          if (beat) clearInterval(beat);
        }
      }),
  );
}

/**
 * Event JSON one wait_for_event result carries at most (at least one event; sent twice, as text
 * and as structured content): a stdio client's read buffer is 10 MB in the SDK, and a larger
 * message closed its connection for good. The rest comes with the next call, from the cursor.
 */
export const WAIT_RESULT_BYTES = 2 * 1024 * 1024;

function withinBytes(r: Record<string, unknown>): Record<string, unknown> {
  const events = Array.isArray(r.events) ? (r.events as { cursor?: unknown; id?: unknown }[]) : [];
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    bytes += JSON.stringify(events[i]).length;
    if (i > 0 && bytes > WAIT_RESULT_BYTES) {
      const kept = events.slice(0, i);
      const last = kept[kept.length - 1];
      return { ...r, events: kept, cursor: Number(last?.cursor ?? last?.id), more: true };
    }
  }
  return r;
}
