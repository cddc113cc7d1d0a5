/** `cco help`: CCO's own commands (`cco --help` is Claude Code's help, passed through). */
export async function main(_args: string[]): Promise<number> {
  process.stdout.write(`cco — Claude Code Orchestra

Usage:
  cco [claude args...]          launch Claude Code with orchestration (daemon auto-starts)
  cco run [--port N]            run the daemon in the foreground
  cco daemon start|stop|restart|status|logs [-f] [--level warn] [--port N]
  cco health | cco status       daemon health / full status
  cco doctor                    verify the setup, with fixes
  cco proxy [flags]             the LLM gateway alone (port 8000)
  cco tui                       live terminal dashboard
  cco dashboard                 open the web dashboard with its access token
  cco agents list|show|export   the agent catalog
  cco mcp                       MCP server over stdio
  cco demo ["requirement"] [--keep]   offline pipeline demo against the built-in DEMO provider
  cco fake-provider [--port N]  the built-in DEMO provider (canned replies, not a model)
  cco hook <event>              forward a Claude Code hook event (reads JSON on stdin)

Environment: CCO_HOME, CCO_CONFIG_DIR, CCO_TMPDIR, CCO_PORT (or ORCHESTRATOR_PORT), DATABASE_URL, REDIS_URL, CCO_USE_GATEWAY=0
`);
  return 0;
}
