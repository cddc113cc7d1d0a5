import { Command } from 'commander';
import { DEMO_REQUIREMENT, runDemo } from '../pipeline/demo.js';
import { parsePort } from './common.js';

/**
 * `cco demo ["requirement"]`: the whole pipeline offline, against the built-in DEMO provider
 * (canned replies, not a real model), so a newcomer without a key sees it work.
 */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco demo')
    .description('Run the pipeline end to end against the built-in DEMO provider (canned replies, no key needed)')
    .argument('[requirement...]', 'what to build', [])
    .option('--priority <n>', 'priority 1-10', '5')
    .option('--home <dir>', 'CCO home for the demo (default: a new temp folder)')
    .option('--port <port>', 'daemon port (default: any free port)', '0')
    .option('--keep', 'keep the daemon running afterwards to look at the dashboard (Ctrl-C stops it)')
    .exitOverride();
  cmd.parse(args, { from: 'user' });
  const o = cmd.opts<{ priority: string; home?: string; port: string; keep?: boolean }>();
  const words = cmd.processedArgs[0] as string[];
  const requirement = words.length ? words.join(' ') : DEMO_REQUIREMENT;
  try {
    const r = await runDemo({ requirement, priority: Number(o.priority), port: parsePort(o.port), ...(o.home ? { home: o.home } : {}), ...(o.keep ? { keep: true } : {}) });
    if (o.keep) {
      process.stdout.write(`\nDaemon still running: ${r.daemonUrl}/?token=${encodeURIComponent(r.accessToken)}  (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await r.close();
    }
    return r.task.status === 'completed' ? 0 : 1;
  } catch (e) {
    process.stderr.write(`❌ Demo failed: ${(e as Error).message}\n`);
    return 1;
  }
}
