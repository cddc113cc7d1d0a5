import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { httpJson } from '../core/http-json.js';
import { cliContext, fatal, say } from './common.js';

/** The command that opens a URL in the desktop's browser, if there is one. */
function opener(): string | undefined {
  if (process.platform === 'darwin') return 'open';
  if (process.platform === 'win32') return 'explorer';
  return process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
}

/**
 * `cco dashboard [--port N] [--no-open]`: prints the dashboard's URL with the local access
 * token (the page turns it into an HttpOnly cookie and drops it from the address bar) and
 * opens it in the browser when there is a desktop.
 */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco dashboard')
    .description('Open the web dashboard (with its access token)')
    .option('--port <port>', 'daemon port')
    .option('--no-open', 'only print the URL')
    .exitOverride();
  cmd.parse(args, { from: 'user' });
  const o = cmd.opts<{ port?: string; open: boolean }>();
  const { paths, baseUrl } = cliContext({ port: o.port });
  try {
    await httpJson('GET', `${baseUrl}/health`, undefined, { timeoutMs: 2000 });
  } catch {
    fatal(`The daemon is not running at ${baseUrl}. Start it with \`cco daemon start${o.port ? ` --port ${o.port}` : ''}\`, then run \`cco dashboard\` again.`);
  }
  if (!existsSync(paths.tokenFile)) fatal(`No access token at ${paths.tokenFile}; restart the daemon (\`cco daemon restart\`) to create it.`);
  const token = readFileSync(paths.tokenFile, 'utf8').trim();
  const url = await signInUrl(baseUrl, token);
  process.stdout.write(`${url}\n`);
  const cmdName = o.open ? opener() : undefined;
  if (cmdName) {
    const child = spawn(cmdName, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => say('Could not open a browser; open the URL above yourself.'));
    child.unref();
    say(`🌐 Opening the dashboard in your browser (${cmdName}).`);
  } else if (o.open) {
    say('Open the URL above in your browser (no desktop found to open it for you).');
  }
  return 0;
}

/**
 * A one-time sign-in link (good for 5 minutes), so the lasting access token stays out of the
 * browser's history and the opener's command line; a daemon of an older version gets the token link.
 */
async function signInUrl(baseUrl: string, token: string): Promise<string> {
  try {
    const r = await httpJson<{ path?: string }>('POST', `${baseUrl}/api/dashboard/login-code`, '{}', { timeoutMs: 3000, headers: { 'x-cco-token': token } });
    if (r.status === 200 && typeof r.body?.path === 'string') return `${baseUrl}${r.body.path}`;
  } catch {
    // an older daemon, or a hiccup: the token link still works
  }
  return `${baseUrl}/?token=${encodeURIComponent(token)}`;
}
