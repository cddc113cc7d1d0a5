#!/usr/bin/env node
/**
 * `cco` entry. A known subcommand runs that command; anything else launches Claude Code with
 * orchestration (all arguments passed through), so `cco --help` and `cco -p "..."` reach
 * Claude Code as the seeds show. Subcommand modules load lazily to keep the launcher fast.
 */
const SUBCOMMANDS: Record<string, string> = {
  daemon: './daemon-cmd.js',
  run: './run.js',
  health: './health.js',
  status: './status.js',
  doctor: './doctor.js',
  hook: './hook.js',
  proxy: './proxy.js',
  tui: './tui.js',
  mcp: './mcp.js',
  agents: './agents.js',
  dashboard: './dashboard.js',
  'fake-provider': './fake-provider.js',
  help: './help.js',
};

const argv = process.argv.slice(2);
const first = argv[0];
const modPath = first !== undefined ? SUBCOMMANDS[first] : undefined;
const mod = (await import(modPath ?? './launcher.js')) as { main(args: string[]): Promise<number | void> };
const code = await mod.main(modPath ? argv.slice(1) : argv);
if (typeof code === 'number') process.exitCode = code;
