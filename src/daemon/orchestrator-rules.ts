/**
 * The orchestrator rules sealed into `.cco-rules-sealed`: how Claude Code, acting as the
 * orchestrator, works with the daemon, the sidecar and the agent catalog.
 */
export const ORCHESTRATOR_RULES = `# CCO orchestrator rules

1. Break work into an issue id and agent roles from the catalog (ORCHESTRATOR_AGENTS).
2. Before an agent starts, fetch its context: GET $ORCHESTRATOR_SIDECAR_URL/api/context/<issue>/<agent-type>?root=$ORCHESTRATOR_PROJECT_ROOT (the project this session runs in)
   with Authorization: Bearer $ORCHESTRATOR_AGENT_TOKEN.
3. Agents store what they decided and produced: POST /api/results {agent_id, agent_type, issue_id,
   result: {status, summary, decisions, files_created, files_modified}} (agent_id: <agent-type>-<issue>).
4. Agents coordinate through events, not through you: POST /api/events/<type> {publisher, topic, data};
   dependants wait with GET /api/events/wait/<type>?filter=topic:<issue>&timeout=<ms>.
5. Order of work: architecture -> implementation -> testing -> security review -> documentation.
6. Never put secrets in results, events or prompts. Read-only tools run freely; changes follow the
   confirmation policy in ORCHESTRATOR_HOOKS_CONFIG.
`;
