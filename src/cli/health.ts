import { Command } from 'commander';
import { HEALTH_ANSWER_MS, notCcoMessage, probeHealth } from '../daemon/control.js';
import { daemonOnPort, findPortHolder } from '../daemon/port-holder.js';
import { cliContext, notRunningMessage, say } from './common.js';

/** `cco health`: the daemon's /health as JSON; exit 0 when healthy. */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco health').option('--port <port>').exitOverride();
  cmd.parse(args, { from: 'user' });
  const portOpt = cmd.opts<{ port?: string }>().port;
  const { baseUrl, port } = cliContext({ port: portOpt, lenient: true });
  const p = await probeHealth(baseUrl, HEALTH_ANSWER_MS);
  // a CCO daemon holds the port but did not answer in time: busy or stuck, not absent
  const silent = p.kind === 'none' ? daemonOnPort(findPortHolder(port), port) : undefined;
  if (silent) {
    say(`❌ The CCO daemon (PID ${silent.pid}) runs on port ${port} but did not answer ${baseUrl}/health within ${HEALTH_ANSWER_MS / 1000} s. See what it is doing: \`cco daemon logs${port !== 3000 ? ` --port ${port}` : ''}\`.`);
    return 1;
  }
  if (p.kind === 'none') {
    say(`❌ ${notRunningMessage(baseUrl, port, portOpt, findPortHolder(port))}`);
    return 1;
  }
  // any web server answers /health with 200: only a CCO daemon's report counts
  if (p.kind === 'other') {
    say(`❌ ${notCcoMessage(baseUrl, port, 'cco daemon start --port {port} (and CCO_PORT={port} for cco)', p)}`);
    return 1;
  }
  process.stdout.write(JSON.stringify(p.body, null, 2) + '\n');
  return p.healthy ? 0 : 1;
}
