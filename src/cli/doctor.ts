import { Command } from 'commander';
import { resolvePaths } from '../config/paths.js';
import { parsePort } from './common.js';
import { runChecks } from './doctor-checks.js';

const ICON = { ok: '✅', warn: '⚠️ ', fail: '❌' } as const;

/** `cco doctor`: verify the setup, one line per check, each problem with its fix. */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco doctor').option('--port <port>').option('--json').exitOverride();
  cmd.parse(args, { from: 'user' });
  const o = cmd.opts<{ port?: string; json?: boolean }>();
  const results = await runChecks(resolvePaths(), o.port !== undefined ? parsePort(o.port) : undefined);
  if (o.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else {
    process.stdout.write('CCO setup verification\n\n');
    for (const r of results) {
      process.stdout.write(`${ICON[r.level]} ${r.name}: ${r.detail}\n`);
      if (r.fix && r.level !== 'ok') process.stdout.write(`     fix: ${r.fix}\n`);
    }
    const fails = results.filter((r) => r.level === 'fail').length;
    const warns = results.filter((r) => r.level === 'warn').length;
    process.stdout.write(`\n${fails ? `❌ ${fails} problem(s)` : '✅ No problems'}${warns ? `, ⚠️  ${warns} warning(s)` : ''}\n`);
  }
  return results.some((r) => r.level === 'fail') ? 1 : 0;
}
