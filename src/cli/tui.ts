import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { probeHealth } from '../daemon/control.js';
import { cliContext, fatal, startCommand } from './common.js';

/**
 * `cco tui [--port N]`: the live terminal UI against the daemon on this machine (port from
 * `--port`, then CCO_PORT, then daemon.toml), authenticated with the local access token file.
 */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco tui').description('Live terminal UI: agents, tasks, requests/s, cost, cache, logs').option('--port <port>', 'daemon port').exitOverride();
  cmd.parse(args, { from: 'user' });
  const portOpt = cmd.opts<{ port?: string }>().port;
  const { paths, baseUrl } = cliContext({ port: portOpt });
  if (!existsSync(paths.tokenFile)) fatal(`No access token at ${paths.tokenFile}: the daemon has not run in this home yet. Start it with \`${startCommand(portOpt)}\`.`);
  const token = readFileSync(paths.tokenFile, 'utf8').trim();
  if (!process.stdin.isTTY) fatal('cco tui needs an interactive terminal (a TTY); for scripts use `cco status` or `cco health`.', 2);
  // a daemon that is not there is said at once (the TUI would wait for it, "reconnecting", for ever);
  // once it runs, the TUI rides out restarts by itself
  if ((await probeHealth(baseUrl)).kind !== 'cco') fatal(`Daemon is not running at ${baseUrl}. Start it with \`${startCommand(portOpt)}\`, then run \`cco tui\` again.`);
  // ink draws only a final frame when it believes it runs in CI (the CI variable is set, as it is
  // in many terminals inside CI jobs and containers); an interactive TTY wants live frames.
  if (process.stdout.isTTY) process.env.CI = '0';
  // ink and react load only for this command.
  const { runTui } = await import('../tui/run.js');
  await runTui(baseUrl, token, process.stdout.rows || 30);
  return 0;
}
