import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { readLauncherConfig } from '../config/launcher-config.js';
import { resolvePaths } from '../config/paths.js';
import { httpJson } from '../core/http-json.js';
import { verifyLaunchArtifacts } from '../daemon/verify-artifacts.js';
import { SealedFileError } from '../daemon/sealed.js';
import { loadSealingKey } from '../daemon/secret-files.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { claudeMcpConfigFile, PROJECT_ROOT_ENV } from '../mcp/claude-mcp-config.js';
import { claudePluginDir } from '../daemon/launch-paths.js';
import { readDaemonInfo } from '../daemon/lock.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { redactString } from '../core/redact.js';
import { claudeMissing, findClaude } from './find-claude.js';
import { localUrl } from '../core/local-url.js';
import { buildId } from '../core/version.js';
import { isLoopback } from '../server/security.js';

interface Session {
  /** The daemon's build (`buildId`), null unbundled; absent from daemons older than it. */
  build?: string | null;
  /** Where the daemon's gateway sends Claude models (null: gateway off; absent from older daemons). */
  anthropic_upstream?: string | null;
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
  let paths = resolvePaths();
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
  const depth = Number(process.env.CCO_LAUNCH_DEPTH ?? 0) || 0;
  if (depth >= MAX_LAUNCH_DEPTH) return fail(`cco was launched ${depth} times, each from the one before: ${exe} leads back to cco (a wrapper or link named claude). Point CCO_CLAUDE_BIN at Claude Code itself (e.g. its path in npm root -g)`, 1);
  // A bare `--version`/`--help` starts no session: it is passed through as is, without starting
  // a daemon that would keep running (and holding its port) for nothing.
  if (args.length === 1 && INFO_ONLY.has(args[0] as string)) return runClaude(exe, args, process.env);

  // Claude Code keeps one --settings, the last: the user's would replace CCO's (no hooks, no
  // ORCHESTRATOR_* environment, no permissions) while this says orchestration is on. Read before
  // the daemon starts, so a typo starts nothing.
  const own = takeUserSettings(args);
  const userSettings = own.value === undefined ? undefined : readUserSettings(own.value, process.cwd());
  if (typeof userSettings === 'string') return fail(userSettings, 1);

  let session = await askSession(baseUrl);
  let startedHere = false;
  if (session) status('✅ Daemon is running');
  else if (readDaemonInfo(paths, port)) {
    // The port's daemon is alive but did not answer: still starting (another `cco` started it), or
    // stuck (stopped, overloaded). Starting another would only fail with "already running".
    session = await waitForSession(baseUrl, config.startupTimeoutMs);
    const running = readDaemonInfo(paths, port);
    if (!session) return fail(running ? notAnswering(baseUrl, running.pid) : `The daemon on port ${port} stopped before answering. Start it again: cco daemon start`, 1);
    status('✅ Daemon is running');
  } else {
    startedHere = true;
    const { startDetached } = await import('../daemon/control.js');
    const r = await startDetached(paths, port, { timeoutMs: config.startupTimeoutMs, joinConcurrentStart: true });
    if (!r.ok) {
      // `cco daemon start --port` would start a daemon this launcher never asks: it reads its
      // port from daemon.toml or CCO_PORT
      const moved = / already in use/.test(r.message) ? ((free) => `\n   For cco itself: set port = ${free} under [daemon] in ${paths.configFile}, or CCO_PORT=${free}`)((await import('../daemon/port-holder.js')).suggestFreePort(port + 2, true)) : '';
      return fail(`${r.message}${moved}\n   Logs: ${r.logFile} (cco daemon logs)`, 1);
    }
    session = await askSession(localUrl(host, r.info.port));
    if (!session) return fail(`Daemon started but did not answer at ${baseUrl}. See \`cco daemon logs\`.`, 1);
    status(`✅ Daemon started (PID ${r.info.pid}, ${r.ms} ms)`);
  }

  // the launch files are where the daemon that answered wrote them: its temp folder, which this
  // shell's TMPDIR may not be (a daemon started from another shell, by systemd, pam_tmpdir)
  const vfs = session.env.ORCHESTRATOR_VFS_MOUNT;
  if (vfs && resolve(vfs) !== paths.tmpDir) paths = resolvePaths({ ...process.env, CCO_TMPDIR: vfs });
  try {
    verifyLaunchArtifacts(paths, loadSealingKey(paths.keyFile));
  } catch (e) {
    if (e instanceof SealedFileError) return fail(e.message, 1);
    throw e;
  }
  status('✅ Orchestrator settings found');
  const stale = startedHere ? undefined : staleDaemonWarning(buildId(), session.build, port);
  if (stale) status(stale);

  const env: NodeJS.ProcessEnv = { ...process.env, ...session.env, CCO_LAUNCH_DEPTH: String(depth + 1) };
  bypassProxyForDaemon(env, session.gateway_url);
  if (process.env.CCO_USE_GATEWAY !== '0' && process.env.CCO_USE_GATEWAY !== 'false') {
    // a daemon started here took the user's ANTHROPIC_BASE_URL as its upstream; one already
    // running kept the upstream it started with
    const warning = startedHere ? undefined : upstreamWarning(session, process.env);
    if (warning) status(warning);
    env.ANTHROPIC_BASE_URL = session.gateway_url;
  }
  // The MCP config is shared by every launch; its project-root header is expanded by Claude Code
  // from this variable, so the MCP server's get_context defaults to this session's folder.
  env[PROJECT_ROOT_ENV] = encodeURI(session.env.ORCHESTRATOR_PROJECT_ROOT ?? process.cwd());
  status('✅ Orchestration environment configured');

  status('🚀 Launching Claude Code with orchestration support...');
  status(`   Working directory: ${process.cwd()}`);
  let settingsFile = paths.settingsFile;
  let claudeArgs = args;
  if (userSettings) {
    // CCO's settings and the user's in one file of this launch (0600: either may hold secrets)
    let ccoSettings: unknown;
    try {
      ccoSettings = JSON.parse(readFileSync(paths.settingsFile, 'utf8'));
    } catch (e) {
      return fail(`Could not read ${paths.settingsFile}: ${(e as Error).message}. Restart the daemon to regenerate it: cco daemon restart`, 1);
    }
    let merged: unknown;
    try {
      merged = mergeSettings(ccoSettings, userSettings.settings);
    } catch (e) {
      return fail(`Your --settings (${userSettings.source}) ${(e as Error).message}`, 1);
    }
    settingsFile = join(paths.tmpDir, `.cco-settings-${process.pid}-${randomBytes(4).toString('hex')}.json`);
    writeFileAtomic(settingsFile, `${JSON.stringify(merged, null, 2)}\n`, 0o600, { durable: false });
    claudeArgs = own.rest;
    status(`   Settings: ${settingsFile} (${paths.settingsFile} + yours: ${userSettings.source})`);
  } else status(`   Settings: ${paths.settingsFile}`);
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
  try {
    return await runClaude(exe, ['--settings', settingsFile, ...mcpArgs, ...pluginArgs, ...claudeArgs], env);
  } finally {
    if (settingsFile !== paths.settingsFile) rmSync(settingsFile, { force: true });
  }
}

/**
 * The user's own `--settings` (`--settings X` or `--settings=X`, before any `--`; the last one, as
 * Claude Code keeps only that) and the arguments without it.
 */
export function takeUserSettings(args: string[]): { value: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (a === '--settings' && i + 1 < args.length) value = args[++i];
    else if (a.startsWith('--settings=')) value = a.slice('--settings='.length);
    else rest.push(a);
  }
  return { value, rest };
}

/**
 * A `--settings` value as Claude Code reads it: inline JSON (`{...}`) or a file (relative to the
 * working directory). Returns the settings, or the message to refuse the launch with.
 */
export function readUserSettings(value: string, cwd: string): { settings: Record<string, unknown>; source: string } | string {
  const t = value.trim();
  const inline = t.startsWith('{') && t.endsWith('}');
  const source = inline ? 'inline JSON' : resolve(cwd, value.startsWith('~/') ? join(homedir(), value.slice(2)) : value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(inline ? t : readFileSync(source, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    return `Could not read your --settings (${source}): ${why}.\n   cco adds its hooks, environment and permissions to your settings; without them Claude Code would run without orchestration.`;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return `Your --settings (${source}) is not a JSON object.`;
  return { settings: parsed as Record<string, unknown>, source };
}

/**
 * `over` layered on `base` as Claude Code layers its settings sources: objects merged key by key,
 * arrays joined (each hook event's entries, permission rules) without repeats, any other value
 * `over`'s.
 */
export function mergeSettings(base: unknown, over: unknown, at = ''): unknown {
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over.filter((v) => !base.some((b) => isDeepStrictEqual(b, v)))];
  if (isPlainObject(base) && isPlainObject(over)) {
    // fromEntries: a "__proto__" key of the user's JSON stays a plain key
    return Object.fromEntries([
      ...Object.entries(base).filter(([k]) => !Object.hasOwn(over, k)),
      ...Object.entries(over).map(([k, v]) => [k, Object.hasOwn(base, k) ? mergeSettings(base[k], v, at ? `${at}.${k}` : k) : v]),
    ]);
  }
  // a value of another kind where CCO has a list or an object (`"hooks": null`) would drop CCO's
  // hooks, environment or permissions without a word
  if (Array.isArray(base) || isPlainObject(base)) {
    throw new Error(`sets \`${at}\` to ${JSON.stringify(over)}, where CCO's settings have ${Array.isArray(base) ? 'a list' : 'an object'} (its hooks, environment and permissions for orchestration). Give ${Array.isArray(base) ? 'a list' : 'an object'} (merged with CCO's) or leave \`${at}\` out.`);
  }
  return over;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Claude Code invocations that only print information and exit. */
const INFO_ONLY = new Set(['--version', '-v', '--help', '-h']);

/** The install hint; someone asking for help was perhaps looking for CCO's own commands. */
export function claudeNotFound(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const askedForHelp = args.some((a) => a === '--help' || a === '-h');
  const missing = claudeMissing(env);
  return askedForHelp ? `${missing}\n   (\`cco --help\` is Claude Code's help; CCO's own commands: cco help)` : missing;
}

/** Launches deep (`CCO_LAUNCH_DEPTH`) past which `cco` refuses: a `claude` that leads back to cco (a wrapper script) would launch without end. */
export const MAX_LAUNCH_DEPTH = 4;

/** Hosts the launched Claude Code reaches the daemon at: never through the user's HTTP(S)_PROXY, which would refuse them or not know them. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/**
 * The session's environment with loopback (and `daemonUrl`'s host) in NO_PROXY / no_proxy when a
 * proxy is set: Claude Code sent its gateway calls, hooks and MCP requests to the proxy
 * ("Unable to connect to API"). The user's own entries stay.
 */
export function bypassProxyForDaemon(env: NodeJS.ProcessEnv, daemonUrl: string): void {
  const proxied = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'].some((k) => env[k]);
  if (!proxied) return;
  let host: string | undefined;
  try {
    host = new URL(daemonUrl).hostname.replace(/^\[|\]$/g, '');
  } catch {
    host = undefined;
  }
  const given = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  if (given.includes('*')) return;
  const add = [...LOOPBACK_HOSTS, ...(host ? [host] : [])].filter((h, i, all) => all.indexOf(h) === i && !given.includes(h));
  if (add.length === 0) return;
  env.NO_PROXY = env.no_proxy = [...given, ...add].join(',');
}

/**
 * Every build says version 0.1.0: a daemon started before an upgrade keeps running the old code
 * (its prices, its fixes) until it is restarted, and nothing else would say so. `here`: this
 * launcher's build (null unbundled: nothing to compare); `daemon`: the daemon's (absent from
 * daemons older than the build id).
 */
export function staleDaemonWarning(here: string | null, daemon: string | null | undefined, port: number): string | undefined {
  if (!here || daemon === here) return undefined;
  return `⚠️  The daemon on port ${port} runs another build of CCO (${daemon ?? 'from before this update'}; this one is ${here}): it started before CCO was updated. Restart it to use this one: cco daemon restart${port !== 3000 ? ` --port ${port}` : ''}`;
}

async function askSession(baseUrl: string, timeoutMs = 1500): Promise<Session | undefined> {
  try {
    const r = await httpJson<Session>('POST', `${baseUrl}/api/launcher/session`, { cwd: process.cwd() }, { timeoutMs });
    return r.status === 200 && r.body?.env ? r.body : undefined;
  } catch {
    return undefined;
  }
}

/** Asks until the daemon answers or `ms` have passed. */
async function waitForSession(baseUrl: string, ms: number): Promise<Session | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const s = await askSession(baseUrl, Math.max(100, Math.min(1500, deadline - Date.now())));
    if (s) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

export function notAnswering(baseUrl: string, pid: number): string {
  return `The daemon is running (PID ${pid}) but does not answer at ${baseUrl} (stopped or stuck).\n   Restart it: cco daemon restart   (its logs: cco daemon logs)`;
}

/**
 * When the user's ANTHROPIC_BASE_URL (their own gateway) is not the upstream of the daemon already
 * running (it started without it), the warning to print: Claude Code's requests go through the
 * daemon's gateway, to the daemon's upstream (`anthropic_upstream` of its session answer; absent
 * from older daemons and with the gateway off: nothing to compare).
 */
export function upstreamWarning(session: Pick<Session, 'gateway_url' | 'anthropic_upstream'>, env: NodeJS.ProcessEnv): string | undefined {
  const mine = env.ANTHROPIC_BASE_URL;
  const theirs = session.anthropic_upstream;
  // CCO_ANTHROPIC_BASE_URL wins over it in any daemon; one pointing at this gateway is cco within a cco session
  if (!mine || !theirs || env.CCO_ANTHROPIC_BASE_URL || sameServer(mine, session.gateway_url) || sameUpstream(theirs, mine)) return undefined;
  return `⚠️  Your ANTHROPIC_BASE_URL (${redactString(mine)}) is not used: the daemon already running was started without it and sends Claude Code's requests to ${redactString(theirs)}.\n   To go through yours: cco daemon restart, from a shell where ANTHROPIC_BASE_URL is set (the daemon takes it from the environment it starts in).`;
}

/** Same scheme, host and port (any two loopback names alike). */
function sameServer(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.protocol === y.protocol && x.port === y.port && (x.hostname === y.hostname || (isLoopback(x.hostname) && isLoopback(y.hostname)));
  } catch {
    return false;
  }
}

/** Same Anthropic base URL: trailing slashes and `/v1` aside (the SDK's convention). */
function sameUpstream(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const x = new URL(u);
      return `${x.protocol}//${x.username}@${x.host}${x.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
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

/** The signal's number (SIGSEGV 11, SIGABRT 6, SIGPIPE 13 ...): a shell reports a death by it as 128 + that. */
function signalNumber(sig: NodeJS.Signals): number | undefined {
  return osConstants.signals[sig];
}

function status(line: string): void {
  process.stderr.write(`${line}\n`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`❌ ${message}\n`);
  return code;
}
