import { Command } from 'commander';
import { notCcoMessage, probeHealth } from '../daemon/control.js';
import { cliContext, say, startCommand } from './common.js';

/** `cco health`: the daemon's /health as JSON; exit 0 when healthy. */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco health').option('--port <port>').exitOverride();
  cmd.parse(args, { from: 'user' });
  const portOpt = cmd.opts<{ port?: string }>().port;
  const { baseUrl, port } = cliContext({ port: portOpt });
  const p = await probeHealth(baseUrl, 3000);
  if (p.kind === 'none') {
    say(`❌ Daemon is not running at ${baseUrl}. Start it with \`${startCommand(portOpt)}\`.`);
    return 1;
  }
  // any web server answers /health with 200: only a CCO daemon's report counts
  if (p.kind === 'other') {
    say(`❌ ${notCcoMessage(baseUrl, port, 'cco daemon start --port {port} (and CCO_PORT={port} for cco)')}`);
    return 1;
  }
  process.stdout.write(JSON.stringify(p.body, null, 2) + '\n');
  return p.healthy ? 0 : 1;
}
