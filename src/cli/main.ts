#!/usr/bin/env node
/**
 * `cco` entry. A known subcommand runs that command; anything else launches Claude Code with
 * orchestration (all arguments passed through), so `cco --help` and `cco -p "..."` reach
 * Claude Code as the seeds show. Subcommand modules load lazily to keep the launcher fast.
 */
type CommandModule = { main(args: string[]): Promise<number | void> };

// Static import() calls (not a computed path) so a bundler can split each command into its own chunk.
const SUBCOMMANDS: Record<string, () => Promise<CommandModule>> = {
  daemon: () => import('./daemon-cmd.js'),
  // The daemon loads from a CommonJS bundle with a V8 code cache when there is one (dist/cco).
  run: async () => (await import('./code-cache.js')).loadCachedBundle('daemon.cjs') ?? import('./run.js'),
  health: () => import('./health.js'),
  status: () => import('./status.js'),
  doctor: () => import('./doctor.js'),
  hook: () => import('./hook.js'),
  proxy: () => import('./proxy.js'),
  tui: () => import('./tui.js'),
  mcp: () => import('./mcp.js'),
  agents: () => import('./agents.js'),
  dashboard: () => import('./dashboard.js'),
  'fake-provider': () => import('./fake-provider.js'),
  demo: () => import('./demo.js'),
  help: () => import('./help.js'),
};

// A reader that goes away (`cco daemon restart | head -1`) is not an error of the command: its
// output is dropped and the command finishes its work (a restart still starts the daemon).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

const argv = process.argv.slice(2);
const first = argv[0];
const load = first !== undefined ? SUBCOMMANDS[first] : undefined;
const mod = await (load ?? (() => import('./launcher.js')))();
let code: number | void;
try {
  code = await mod.main(load ? argv.slice(1) : argv);
} catch (e) {
  // commander with exitOverride throws after printing help, a version or a usage error: the
  // user has read what it printed; a stack trace under it would only bury it
  const c = e as { code?: unknown; exitCode?: unknown };
  if (typeof c.code !== 'string' || !c.code.startsWith('commander.')) throw e;
  code = typeof c.exitCode === 'number' ? c.exitCode : 1;
}
if (typeof code === 'number') process.exitCode = code;
