import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { probeHealth, startDetached } from '../daemon/control.js';
import { SEED_KEY_ENV } from '../mcp/auth.js';
import { bridgeStdioToHttp } from '../mcp/stdio-bridge.js';
import { cliContext, say, startCommand } from './common.js';

/**
 * `cco mcp`: the daemon's MCP tools over stdio, for MCP clients that spawn servers
 * (`{"command": "cco", "args": ["mcp"]}`). Talks to the running daemon over HTTP (starting it when
 * needed unless --no-start), authenticated with --key, CCO_MCP_KEY, the local access token or SELF_BUILDING_MCP_API_KEY.
 */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco mcp')
    .description('Serve the daemon\'s MCP tools over stdio')
    .option('--port <port>', 'daemon port')
    .option('--url <url>', 'MCP endpoint (default http://127.0.0.1:<port>/mcp)')
    .option('--key <key>', 'MCP API key (default: CCO_MCP_KEY, else the daemon\'s local access token, else SELF_BUILDING_MCP_API_KEY)')
    .option('--no-start', 'fail instead of starting the daemon when it is not running')
    .exitOverride();
  cmd.parse(args, { from: 'user' });
  const opts = cmd.opts<{ port?: string; url?: string; key?: string; start: boolean }>();
  const { paths, config, port, baseUrl } = cliContext({ port: opts.port });
  let url = opts.url ?? `${baseUrl}/mcp`;

  /** Starts the daemon (joining a start already under way); its MCP endpoint, or the reason it failed. */
  const startDaemon = async (): Promise<{ ok: true; url: string } | { ok: false; message: string }> => {
    const r = await startDetached(paths, port, { timeoutMs: config.daemon.startup_timeout_ms, joinConcurrentStart: true });
    if (!r.ok) return { ok: false, message: `${r.message}\n   Logs: ${r.logFile}` };
    return { ok: true, url: `${baseUrl.replace(/:\d+$/, `:${r.info.port}`)}/mcp` };
  };

  // a daemon that answers, degraded or not (Redis down, a provider's breaker open), is used: a
  // second start would only fail with "already running"
  if (!opts.url && (await probeHealth(baseUrl)).kind !== 'cco') {
    if (!opts.start) {
      say(`❌ Daemon is not running at ${baseUrl}. Start it with \`${startCommand(opts.port)}\` (or drop --no-start).`);
      return 1;
    }
    const r = await startDaemon();
    if (!r.ok) {
      say(`❌ ${r.message}`);
      return 1;
    }
    url = r.url;
  }
  const key = mcpKey(opts.key, process.env, existsSync(paths.tokenFile) ? readFileSync(paths.tokenFile, 'utf8') : undefined);
  if (!key) {
    say(`❌ No MCP key: pass --key, set CCO_MCP_KEY (or ${SEED_KEY_ENV}), or run the daemon on this machine (its access token is ${paths.tokenFile})`);
    return 1;
  }
  // A daemon that dies while the client is connected is started again the same way (not with --no-start or --url).
  const restart = opts.start && !opts.url
    ? async () => {
        const r = await startDaemon();
        if (!r.ok) throw new Error(r.message);
        return r.url;
      }
    : undefined;
  // Claude Code started by `cco` passes its session's folder to the MCP servers it spawns
  const projectRoot = process.env.ORCHESTRATOR_PROJECT_ROOT;
  await bridgeStdioToHttp({ url, key, ...(restart ? { startDaemon: restart } : {}), ...(projectRoot ? { projectRoot } : {}) });
  return 0;
}

/**
 * The key `cco mcp` presents: an explicit one first (--key, CCO_MCP_KEY); then this machine's
 * daemon access token, which always works for it; the seed's SELF_BUILDING_MCP_API_KEY last (a
 * daemon started without it refuses it). Empty values count as unset.
 */
export function mcpKey(explicit: string | undefined, env: NodeJS.ProcessEnv, localToken: string | undefined): string {
  const set = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim() : undefined);
  return set(explicit) ?? set(env.CCO_MCP_KEY) ?? set(localToken) ?? set(env[SEED_KEY_ENV]) ?? '';
}
