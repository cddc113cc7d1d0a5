import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { McpServices, Principal } from '../deps.js';
import { need, run } from './result.js';

const loose = z.record(z.string(), z.unknown());

/** The agent catalog and the pipeline: `list_agents`, `submit_requirement`, `get_task`, `retry_task`. */
export function registerPipelineTools(server: McpServer, svc: McpServices, principal: Principal): void {
  // Tasks belong to the tenant that submitted them: another tenant's key sees (and retries) them only as admin.
  const by = { userId: `mcp:${principal.tenant}`, admin: principal.admin };
  server.registerTool(
    'list_agents',
    {
      title: 'List catalog agents',
      description: 'The agent catalog (architects, language and framework specialists, testers, security auditors, ...): name, description, model tier, category, tools and topics. Filter by category or a word.',
      inputSchema: { category: z.string().max(100).optional(), query: z.string().max(200).optional().describe('word searched in name and description') },
      outputSchema: z.looseObject({ total: z.number(), agents: z.array(z.looseObject({ name: z.string(), description: z.string(), model: z.string(), category: z.string(), tools: z.array(z.string()), topics: z.looseObject({ subscribe: z.array(z.string()), publish: z.array(z.string()) }) })) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ category, query }) =>
      run(async () => {
        const q = query?.toLowerCase();
        const agents = svc.agents
          .list()
          .filter((a) => (!category || a.category === category) && (!q || a.name.includes(q) || a.description.toLowerCase().includes(q)))
          .map((a) => ({ name: a.name, description: a.description, model: a.model, category: a.category, tools: [...a.tools], topics: { subscribe: [...a.topics.subscribe], publish: [...a.topics.publish] } }));
        return { total: agents.length, agents };
      }),
  );

  server.registerTool(
    'submit_requirement',
    {
      title: 'Submit a requirement',
      description: 'Creates a pipeline task from a requirement: it runs through analysis, implementation, validation and integration stages (each an agent calling an LLM through the gateway). Returns the task id at once; follow it with get_task.',
      inputSchema: {
        requirement: z.string().min(1).max(100_000).describe('what to build, in plain words'),
        priority: z.number().int().min(1).max(10).optional().describe('1 (low) to 10 (urgent); default 5'),
        output_format: z.string().max(40).optional().describe('code, html, svg, markdown ... (inferred when absent)'),
      },
      outputSchema: z.looseObject({ task_id: z.string(), status: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (a) => run(() => need(svc.pipeline, 'the pipeline').submit(a, by)),
  );

  server.registerTool(
    'get_task',
    {
      title: 'Get a pipeline task',
      description: 'A pipeline task: status, stages with their outputs and errors, files written to the workspace.',
      inputSchema: { task_id: z.string().min(1).max(100) },
      outputSchema: z.looseObject({ task: loose }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ task_id }) =>
      run(async () => {
        const task = await need(svc.pipeline, 'the pipeline').getTask(task_id, by);
        if (!task) throw new AppError(404, 'task_not_found', `No task ${task_id}`);
        return { task };
      }),
  );

  // Any key that may submit may retry, but only its own tasks unless it is an admin (as get_task).
  server.registerTool(
    'retry_task',
    {
      title: 'Retry a pipeline task',
      description:
        'Reruns a pipeline task that failed, was cancelled, or completed with its validation failed (validation.passed false): it is queued again and resumes from the stage that failed (the implementation, for a rejected validation, given the validator\'s issues), keeping the stages finished before it; its LLM calls bypass the gateway cache. A queued, running or validly completed task cannot be retried (409). Returns the task; follow it with get_task.',
      inputSchema: { task_id: z.string().min(1).max(100) },
      outputSchema: z.looseObject({ task: loose }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    ({ task_id }) => run(async () => ({ task: await need(svc.pipeline, 'the pipeline').retry(task_id, by) })),
  );
}
