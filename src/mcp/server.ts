import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpServices, Principal } from './deps.js';
import { registerImproveTools } from './tools/improve.js';
import { registerPipelineTools } from './tools/pipeline.js';
import { registerSidecarTools } from './tools/sidecar.js';
import { registerSystemTools } from './tools/system.js';

export const TOOL_NAMES = [
  'get_system_status',
  'get_context',
  'store_result',
  'publish_event',
  'wait_for_event',
  'list_agents',
  'submit_requirement',
  'get_task',
  'retry_task',
  'cache_stats',
  'trigger_improvement_cycle',
  'cancel_improvement_cycle',
  'list_improvement_cycles',
  'reset_circuit_breaker',
] as const;

/** One MCP server (one per session) with every CCO tool, acting for `principal`. */
export function createCcoMcpServer(svc: McpServices, principal: Principal): McpServer {
  const server = new McpServer(
    { name: 'cco', title: 'Claude Code Orchestra', version: svc.version },
    {
      capabilities: { tools: {}, logging: {} },
      instructions:
        'CCO daemon tools. Agents: get_context before working on an issue, store_result when done, publish_event / wait_for_event to coordinate. Operators: get_system_status, cache_stats, reset_circuit_breaker, and the improvement cycle tools.',
    },
  );
  registerSystemTools(server, svc, principal);
  registerSidecarTools(server, svc, principal);
  registerPipelineTools(server, svc, principal);
  registerImproveTools(server, svc, principal);
  return server;
}
