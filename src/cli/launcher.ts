import { spawn } from 'node:child_process';
import { ConfigError } from '../config/config-error.js';
import { readLauncherConfig } from '../config/launcher-config.js';
import { resolvePaths } from '../config/paths.js';
import { httpJson } from '../core/http-json.js';
import { verifyLaunchArtifacts } from '../daemon/verify-artifacts.js';
import { SealedFileError } from '../daemon/sealed.js';
import { loadSealingKey } from '../daemon/secret-files.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { claudeMcpConfigFile } from '../mcp/claude-mcp-config.js';
import { claudePluginDir } from '../daemon/launch-paths.js';
import { CLAUDE_NOT_FOUND, findClaude } from './find-claude.js';
import { localUrl } from '../core/local-url.js';

interface Session {
  daemon_url: string;
  gateway_url: string;
  sidecar_url: string | null;
  env: Record<string, string>;
}

/**
 * `cco [claude args...]`: make sure the daemon is up (start it, wait at most the configured
 * 3 s), verify the sealed files, set the orchestration environment, and run
 * `claude --settings <file> [args...]` in the current directory with stdio, signals and the
 * exit code passed through. Status lines go to stderr so Claude Code's stdout stays clean.
 */
export async function main(args: string[]): Promise<number> {
  const paths = resolvePaths();
  let config;
  try {
    config = readLauncherConfig(paths);
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message, 78);
    throw e;
  }
  const { port, host } = config;
  const baseUrl = localUrl(host, port);
  // Before the daemon: without Claude Code there is nothing to launch, and a daemon started for
  // nothing would keep running (and holding its port) after this fails.
  const exe = findClaude(process.env);
  if (!exe) return fail(claudeNotFound(args), 127);
  // A bare `--version`/`--help` starts no session: it is passed through as is, without starting
  // a daemon that would keep running (and holding its port) for nothing.
  if (args.length === 1 && INFO_ONLY.has(args[0] as string)) return runClaude(exe, args, process.env);

  let session = await askSession(baseUrl);
  if (session) status('✅ Daemon is running');
  else {
    const { startDetached } = await import('../daemon/control.js');
    const r = await startDetached(paths, port, { timeoutMs: config.startupTimeoutMs, joinConcurrentStart: true });
    if (!r.ok) {
      // `cco daemon start --port` would start a daemon this launcher never asks: it reads its
      // port from daemon.toml or CCO_PORT
      const moved = / already in use/.test(r.message) ? `\n   For cco itself: set port = ${port + 2} under [daemon] in ${paths.configFile}, or CCO_PORT=${port + 2}` : '';
      return fail(`${r.message}${moved}\n   Logs: ${r.logFile} (cco daemon logs)`, 1);
    }
    session = await askSession(localUrl(host, r.info.port));
    if (!session) return fail(`Daemon started but did not answer at ${baseUrl}. See \`cco daemon logs\`.`, 1);
    status(`✅ Daemon started (PID ${r.info.pid}, ${r.ms} ms)`);
  }

  try {
    verifyLaunchArtifacts(paths, loadSealingKey(paths.keyFile));
  } catch (e) {
    if (e instanceof SealedFileError) return fail(e.message, 1);
    throw e;
  }
  status('✅ Orchestrator settings found');

  const env: NodeJS.ProcessEnv = { ...process.env, ...session.env };
  if (process.env.CCO_USE_GATEWAY !== '0' && process.env.CCO_USE_GATEWAY !== 'false') {
    env.ANTHROPIC_BASE_URL = session.gateway_url;
  }
  status('✅ Orchestration environment configured');

  status('🚀 Launching Claude Code with orchestration support...');
  status(`   Working directory: ${process.cwd()}`);
  status(`   Settings: ${paths.settingsFile}`);
  status(`   Executable: ${exe}`);
  // The daemon's MCP server (orchestration tools) joins whatever --mcp-config the user passes.
  const mcpConfig = claudeMcpConfigFile(paths.tmpDir);
  // `=` form: --mcp-config is variadic, so a separate value would swallow a positional prompt.
  const mcpArgs = existsSync(mcpConfig) ? [`--mcp-config=${mcpConfig}`] : [];
  if (mcpArgs.length) status(`   MCP: ${mcpConfig}`);
  // The agent catalog as a session-only plugin, so the Task tool can spawn its agents.
  const plugin = claudePluginDir(paths.tmpDir);
  const pluginArgs = existsSync(join(plugin, '.claude-plugin', 'plugin.json')) ? [`--plugin-dir=${plugin}`] : [];
  if (pluginArgs.length) status(`   Agents: ${plugin}`);
  return runClaude(exe, ['--settings', paths.settingsFile, ...mcpArgs, ...pluginArgs, ...args], env);
}

/** Claude Code invocations that only print information and exit. */
const INFO_ONLY = new Set(['--version', '-v', '--help', '-h']);

/** The install hint; someone asking for help was perhaps looking for CCO's own commands. */
export function claudeNotFound(args: string[]): string {
  const askedForHelp = args.some((a) => a === '--help' || a === '-h');
  return askedForHelp ? `${CLAUDE_NOT_FOUND}\n   (\`cco --help\` is Claude Code's help; CCO's own commands: cco help)` : CLAUDE_NOT_FOUND;
}

async function askSession(baseUrl: string): Promise<Session | undefined> {
  try {
    const r = await httpJson<Session>('POST', `${baseUrl}/api/launcher/session`, { cwd: process.cwd() }, { timeoutMs: 1500 });
    return r.status === 200 && r.body?.env ? r.body : undefined;
  } catch {
    return undefined;
  }
}

function runClaude(exe: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(exe, args, { stdio: 'inherit', env, cwd: process.cwd() });
    const forward = (sig: NodeJS.Signals) => () => {
      if (child.exitCode === null) child.kill(sig);
    };
    const handlers: [NodeJS.Signals, () => void][] = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as NodeJS.Signals[]).map((s) => [s, forward(s)]);
    for (const [s, h] of handlers) process.on(s, h);
    child.on('error', (e) => {
      process.stderr.write(`❌ Could not run ${exe}: ${e.message}\n`);
      resolve(126);
    });
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1));
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig];
}

function status(line: string): void {
  process.stderr.write(`${line}\n`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`❌ ${message}\n`);
  return code;
}
