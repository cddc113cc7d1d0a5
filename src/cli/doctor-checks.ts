import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadDaemonConfig, sidecarPort } from '../config/daemon-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import { httpJson } from '../core/http-json.js';
import { version } from '../core/version.js';
import { verifyLaunchArtifacts } from '../daemon/verify-artifacts.js';
import { HEALTH_ANSWER_MS } from '../daemon/control.js';
import { daemonOnPort, findPortHolder, portHolderAdvice } from '../daemon/port-holder.js';
import type { PortHolder } from '../daemon/port-holder.js';
import { loadSealingKey } from '../daemon/secret-files.js';
import { checkDatabase } from './doctor-database.js';
import { checkResults } from './doctor-results.js';
import { CLAUDE_NOT_FOUND, findClaude } from './find-claude.js';

export type CheckLevel = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  level: CheckLevel;
  detail: string;
  fix?: string;
}

/** The seeds' setup-verification checklist, each check independent and explained. */
export async function runChecks(paths: Paths, portOverride?: number): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const add = (r: CheckResult) => out.push(r);

  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  add(major > 20 || (major === 20 && minor >= 19)
    ? { name: 'Node.js', level: 'ok', detail: `v${process.versions.node}` }
    : { name: 'Node.js', level: 'fail', detail: `v${process.versions.node}`, fix: 'Install Node.js 20.19 or newer (nvm install 20)' });
  add({ name: 'CCO build', level: 'ok', detail: `cco ${version()}` });

  let config: DaemonConfig | undefined;
  try {
    config = loadDaemonConfig(paths);
    add({ name: 'Configuration', level: 'ok', detail: paths.configFile });
  } catch (e) {
    add({ name: 'Configuration', level: 'fail', detail: (e as Error).message, fix: `Fix the file, or move it away to get the defaults back: mv ${paths.configFile} ${paths.configFile}.bak` });
  }

  for (const [name, dir] of [['Temp directory', paths.tmpDir], ['Data directory', paths.home]] as const) {
    try {
      mkdirSync(dir, { recursive: true });
      const probe = join(dir, `.cco-doctor-${process.pid}`);
      writeFileSync(probe, '');
      rmSync(probe);
      add({ name, level: 'ok', detail: `${dir} is writable` });
    } catch (e) {
      add({ name, level: 'fail', detail: `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, fix: `mkdir -p ${dir} && chmod 755 ${dir}` });
    }
  }
  try {
    const s = statfsSync(paths.home);
    const freeGb = (s.bavail * s.bsize) / 1024 ** 3;
    add(freeGb >= 1
      ? { name: 'Disk space', level: 'ok', detail: `${freeGb.toFixed(1)} GB free` }
      : { name: 'Disk space', level: 'warn', detail: `${freeGb.toFixed(2)} GB free`, fix: 'Free space or archive old analytics: POST /api/maintenance/archive-old-analytics {"older_than_days": 30}' });
  } catch {
    // statfs unsupported: skip
  }

  const database = await checkDatabase(config, paths);
  add(database);

  const port = portOverride ?? config?.daemon.port ?? 3000;
  const base = `http://127.0.0.1:${port}`;
  // the commands it names act on port 3000 without it
  const flag = port !== 3000 ? ` --port ${port}` : '';
  if (database.level !== 'fail') {
    const results = await checkResults(config, paths, `cco daemon restart${flag}`);
    if (results) add(results);
  }
  let health: { status: string; service?: string; checks?: Record<string, { status: string; url?: string }> } | undefined;
  let answeredAsSidecar = false;
  let noAnswer: string | undefined;
  try {
    // as long as /health may take (a part's check waits its full time when Redis is down)
    const r = await httpJson<typeof health>('GET', `${base}/health`, undefined, { timeoutMs: HEALTH_ANSWER_MS });
    // any web server may answer /health: only a CCO daemon's report counts
    health = r.body?.service === 'cco-daemon' ? r.body : undefined;
    answeredAsSidecar = r.body?.service === 'orchestration-sidecar';
  } catch (e) {
    health = undefined;
    noAnswer = (e as Error).message;
  }
  const silentDaemon = health || noAnswer === undefined ? undefined : silentDaemonCheck(port, findPortHolder(port), noAnswer);
  if (health) {
    const down = Object.entries(health.checks ?? {}).filter(([, c]) => c.status === 'down' || c.status === 'degraded').map(([name, c]) => `${name} ${c.status}`);
    add({ name: 'Daemon', level: health.status === 'ok' ? 'ok' : 'warn', detail: `running at ${base} (${health.status}${down.length ? `: ${down.join(', ')}` : ''})`, ...(health.status === 'ok' ? {} : { fix: `See which part is down: cco status${flag}; logs: cco daemon logs${flag}` }) });
    const sc = health.checks?.sidecar;
    const scPort = sc?.url ? new URL(sc.url).port : String(port + 1);
    if (sc) add({ name: 'Sidecar', level: sc.status === 'ok' ? 'ok' : sc.status === 'disabled' ? 'warn' : 'fail', detail: sc.url ? `${sc.status} at ${sc.url}` : sc.status, ...(sc.status === 'ok' ? {} : { fix: `cco daemon restart${flag}; check port ${scPort} (lsof -i :${scPort})` }) });
  } else if (silentDaemon) {
    // its sidecar port is its own: no warning about that one
    add(silentDaemon);
  } else {
    // the port the sidecar will ask for: taken, a configured one fails the start; the default moves
    const daemonSide = config ?? { daemon: { port: 3000 }, sidecar: {} };
    const scPort = sidecarPort({ daemon: { ...daemonSide.daemon, port }, sidecar: daemonSide.sidecar } as DaemonConfig);
    const configured = config?.sidecar.port !== undefined && config.sidecar.port !== port;
    if (scPort !== 0) {
      const free = await portFree(scPort);
      add(free
        ? { name: `Port ${scPort} (sidecar)`, level: 'ok', detail: 'free' }
        : configured
          ? { name: `Port ${scPort} (sidecar)`, level: 'fail', detail: `in use${describeHolder(scPort)}`, fix: `Free it (lsof -i :${scPort}) or set another [sidecar] port in daemon.toml` }
          : { name: `Port ${scPort} (sidecar)`, level: 'warn', detail: `in use${describeHolder(scPort)}; the sidecar will take a port the OS chooses` });
    }
    const advice = findPortHolder(port) || answeredAsSidecar ? portHolderAdvice(port, 'cco daemon start --port {port}', { answeredAsSidecar }) : undefined;
    add(advice
      ? { name: 'Daemon', level: 'fail', detail: advice.sidecarOf ? `port ${port} is the sidecar port of ${advice.sidecarOf}, not a daemon's` : `port ${port} is held${advice.who}, which is not a CCO daemon`, fix: advice.fix }
      : { name: 'Daemon', level: 'warn', detail: `not running on port ${port}`, fix: database.level === 'fail' ? 'fix the Database problem above first (the daemon cannot start without it), then cco daemon start' : 'cco daemon start (or just run cco; it starts the daemon)' });
  }

  if (health) {
    try {
      const r = verifyLaunchArtifacts(paths, loadSealingKey(paths.keyFile));
      add({ name: 'Sealed files', level: 'ok', detail: `settings + 3 sealed files verified (${r.agents} agents)` });
    } catch (e) {
      add({ name: 'Sealed files', level: 'fail', detail: (e as Error).message, fix: `cco daemon restart${flag} (the daemon writes the settings and sealed files anew)` });
    }
  }

  for (const [name, p] of [['Port 8000 (cco proxy)', 8000]] as const) {
    const free = await portFree(p);
    add(free ? { name, level: 'ok', detail: 'free' } : { name, level: 'warn', detail: `in use${describeHolder(p)}`, fix: `cco proxy --port 0 lets the OS choose` });
  }

  const claude = findClaude();
  if (!claude) add({ name: 'Claude Code', level: 'fail', detail: 'not found on PATH', fix: CLAUDE_NOT_FOUND.split('\n').slice(2).map((l) => l.trim()).join('; ') });
  else {
    const v = spawnSync(claude, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    add({ name: 'Claude Code', level: v.status === 0 ? 'ok' : 'warn', detail: `${claude} ${v.stdout.trim() || v.stderr.trim()}` });
  }
  try {
    accessSync(paths.settingsFile, constants.R_OK);
  } catch {
    if (health) add({ name: 'Settings file', level: 'fail', detail: `${paths.settingsFile} missing`, fix: `cco daemon restart${flag}` });
  }
  add(providerKeyCheck(process.env, health ? { port, env: await daemonEnv(base, paths) } : undefined));
  return out;
}

/**
 * The Daemon check for a port whose holder is a CCO daemon that did not answer /health (`why`:
 * the request's error): it runs, so the next steps are its log and its status, never to kill it
 * as a stranger. Undefined when the holder is not a CCO daemon on this port.
 */
export function silentDaemonCheck(port: number, holder: PortHolder | undefined, why: string): CheckResult | undefined {
  const daemon = daemonOnPort(holder, port);
  if (!daemon) return undefined;
  const portFlag = port !== 3000 ? ` --port ${port}` : '';
  const what = /timed out/.test(why) ? `did not answer within ${HEALTH_ANSWER_MS / 1000} s` : `did not answer (${why})`;
  return {
    name: 'Daemon',
    level: 'fail',
    detail: `the CCO daemon (PID ${daemon.pid}) runs on port ${port} but ${what}: busy, stuck, or stopped (SIGSTOP)`,
    fix: `See what it is doing: cco daemon logs${portFlag}; cco status${portFlag}. If it stays silent: cco daemon restart${portFlag}`,
  };
}

/**
 * The running daemon's environment as its /api/diagnostics shows it (names kept, secret values
 * redacted), or why it could not be read. The access token goes along for a daemon bound beyond
 * loopback; on loopback a local client needs none.
 */
export async function daemonEnv(base: string, paths: Pick<Paths, 'tokenFile'>): Promise<Record<string, unknown> | { unreadable: string }> {
  let token: string | undefined;
  try {
    token = readFileSync(paths.tokenFile, 'utf8').trim() || undefined;
  } catch {
    token = undefined;
  }
  try {
    const r = await httpJson<{ env?: unknown }>('GET', `${base}/api/diagnostics`, undefined, { timeoutMs: 3000, ...(token ? { headers: { 'x-cco-token': token } } : {}) });
    if (r.status !== 200) return { unreadable: `HTTP ${r.status}` };
    const env = r.body?.env;
    return env && typeof env === 'object' ? (env as Record<string, unknown>) : { unreadable: 'no env in /api/diagnostics' };
  } catch (e) {
    return { unreadable: (e as Error).message };
  }
}

const NO_KEY_DETAIL = 'Claude Code’s own login is passed through the gateway';

/**
 * Whether the provider key is where it is used. With a daemon running, that is the daemon's
 * environment, taken from the shell that started it: a key exported afterwards (the guide's "API
 * keys not working" fix) reaches it only on a restart, so the shell's own key does not count.
 * Without a daemon, the shell's: the next daemon started from it gets it.
 */
export function providerKeyCheck(shell: NodeJS.ProcessEnv, daemon: { port: number; env: Record<string, unknown> | { unreadable: string } } | undefined): CheckResult {
  const name = 'Provider key';
  const inShell = !!shell.ANTHROPIC_API_KEY;
  if (!daemon || 'unreadable' in daemon.env) {
    const unread = daemon && 'unreadable' in daemon.env ? ` (the daemon's environment could not be read: ${String(daemon.env.unreadable)})` : '';
    return inShell || shell.ANTHROPIC_AUTH_TOKEN
      ? { name, level: 'ok', detail: `${inShell ? 'ANTHROPIC_API_KEY' : 'ANTHROPIC_AUTH_TOKEN'} is set in this shell (value hidden)${unread}` }
      : { name, level: 'warn', detail: `no ANTHROPIC_API_KEY: ${NO_KEY_DETAIL}${unread}`, fix: 'For the pipeline and cco proxy: export ANTHROPIC_API_KEY=...' };
  }
  const restart = `cco daemon restart${daemon.port !== 3000 ? ` --port ${daemon.port}` : ''}`;
  const value = daemon.env.ANTHROPIC_API_KEY;
  if (typeof value === 'string' && value !== '') return { name, level: 'ok', detail: `ANTHROPIC_API_KEY is set in the daemon on port ${daemon.port} (value hidden)` };
  if (inShell) {
    return {
      name,
      level: 'fail',
      detail: `ANTHROPIC_API_KEY is set in this shell, but the daemon on port ${daemon.port} was started without it (it keeps the environment of the shell that started it)`,
      fix: `Restart it from this shell so it takes the key: ${restart}`,
    };
  }
  return { name, level: 'warn', detail: `the daemon on port ${daemon.port} has no ANTHROPIC_API_KEY: ${NO_KEY_DETAIL}`, fix: `For the pipeline and cco proxy: export ANTHROPIC_API_KEY=..., then ${restart}` };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function describeHolder(port: number): string {
  const h = findPortHolder(port);
  return h ? ` by ${h.command} (PID ${h.pid})` : '';
}
