import { Command } from 'commander';
import { httpJson } from '../core/http-json.js';
import { cliContext, say } from './common.js';

/** `cco health`: the daemon's /health as JSON; exit 0 when healthy. */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco health').option('--port <port>').exitOverride();
  cmd.parse(args, { from: 'user' });
  const { baseUrl } = cliContext({ port: cmd.opts<{ port?: string }>().port });
  try {
    const r = await httpJson('GET', `${baseUrl}/health`, undefined, { timeoutMs: 3000 });
    process.stdout.write(JSON.stringify(r.body, null, 2) + '\n');
    return r.status === 200 ? 0 : 1;
  } catch {
    say(`❌ Daemon is not running at ${baseUrl}. Start it with \`cco daemon start\`.`);
    return 1;
  }
}
