import { envPort } from '../config/launcher-config.js';
import { readFileSync } from 'node:fs';
import { resolvePaths } from '../config/paths.js';
import { httpJson } from '../core/http-json.js';
import { TOKEN_HEADER } from '../server/security.js';

/**
 * `cco hook <event>`: the command form of a Claude Code hook. Reads the hook JSON on stdin,
 * posts it to the daemon and prints the daemon's answer (the PreToolUse decision). It never
 * blocks Claude Code: if the daemon is down or slow it prints nothing and exits 0, so the tool
 * proceeds.
 */
export async function main(args: string[]): Promise<number> {
  const event = args[0];
  if (!event || event.startsWith('-')) {
    // what Claude Code's hooks run; a person asking for help is not a hook event to send
    process.stderr.write('usage: cco hook <event>  (the hook JSON on stdin; Claude Code runs this from the orchestrator settings)\n');
    return event === '--help' || event === '-h' || !event ? 0 : 2;
  }
  const input = await readStdin(2000);
  const base = process.env.ORCHESTRATOR_API_URL || `http://127.0.0.1:${envPort(process.env) ?? '3000'}`;
  try {
    const token = accessToken();
    const res = await httpJson('POST', `${base}/api/hooks/${encodeURIComponent(event)}`, input || '{}', { timeoutMs: 4000, ...(token ? { headers: { [TOKEN_HEADER]: token } } : {}) });
    if (res.status === 200 && res.text && res.text !== '{}') process.stdout.write(res.text);
  } catch {
    // daemon unreachable: let the tool proceed
  }
  return 0;
}

/** The daemon's access token, as this machine's `cco` commands read it (a team-mode daemon wants it on every route). */
function accessToken(): string | undefined {
  try {
    return readFileSync(resolvePaths(process.env).tokenFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function readStdin(timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) return resolve('');
    const chunks: Buffer[] = [];
    const t = setTimeout(() => done(), timeoutMs);
    const done = () => {
      clearTimeout(t);
      process.stdin.pause();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', done);
    process.stdin.on('error', done);
  });
}
