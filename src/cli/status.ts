import { Command } from 'commander';
import { httpJson } from '../core/http-json.js';
import { HEALTH_ANSWER_MS, notCcoMessage, probeHealth } from '../daemon/control.js';
import type { HealthProbe } from '../daemon/control.js';
import { readDaemonInfo } from '../daemon/lock.js';
import { daemonOnPort, findPortHolder } from '../daemon/port-holder.js';
import { cliContext, notRunningMessage, say } from './common.js';

/** `cco status`: the daemon's full status (parts, sidecar, sealed files). */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco status').option('--port <port>').option('--json').exitOverride();
  cmd.parse(args, { from: 'user' });
  const o = cmd.opts<{ port?: string; json?: boolean }>();
  return printStatus(o.port, !!o.json);
}

interface Status {
  version: string;
  pid: number;
  url: string;
  sidecar_url: string | null;
  vfs: string;
  store: string;
  uptime_seconds: number;
  memory_usage_mb: number;
  agents: number;
  sealed_files: { status: string; error?: string };
  parts: Record<string, Check>;
}

interface Check {
  status: string;
  error?: unknown;
  [k: string]: unknown;
}

/** What /api/status said: the status, an error answer (`{error: {code, message}}`, as the daemon's AppErrors), or nothing in time. */
type StatusAnswer = { kind: 'ok'; status: Status } | { kind: 'error'; http: number; code?: string; message?: string } | { kind: 'none'; timedOut: boolean };

async function askStatus(baseUrl: string): Promise<StatusAnswer> {
  try {
    const r = await httpJson<unknown>('GET', `${baseUrl}/api/status`, undefined, { timeoutMs: HEALTH_ANSWER_MS });
    if (r.status === 200) return { kind: 'ok', status: r.body as Status };
    const err = (r.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    return {
      kind: 'error',
      http: r.status,
      ...(typeof err?.code === 'string' ? { code: err.code } : {}),
      ...(typeof err?.message === 'string' ? { message: err.message } : {}),
    };
  } catch (e) {
    return { kind: 'none', timedOut: /timed out/.test((e as Error).message) };
  }
}

/** /health's checks (`database`, `redis`, `memory` and each part's), when a CCO daemon answered it. */
const healthChecks = (p: HealthProbe): Record<string, Check> | undefined =>
  p.kind === 'cco' ? ((p.body as { checks?: Record<string, Check> }).checks ?? undefined) : undefined;

const icon = (st: string): string => (st === 'ok' ? '✅' : st === 'disabled' ? '⏸️ ' : st === 'degraded' || st === 'starting' ? '⚠️ ' : '❌');

/** One line per check: its status, and its error when it has one. */
export function checkLines(checks: Record<string, Check>): string[] {
  return Object.entries(checks).map(([name, c]) => `${icon(c.status)} ${name}: ${c.status}${typeof c.error === 'string' && c.error ? ` — ${c.error}` : ''}`);
}

export async function printStatus(portOpt: string | undefined, json: boolean): Promise<number> {
  const { baseUrl, paths, port } = cliContext({ port: portOpt, lenient: true });
  const answer = await askStatus(baseUrl);
  if (answer.kind === 'ok') {
    // /api/status lists the parts; the database and Redis are /health's own checks
    const health = healthChecks(await probeHealth(baseUrl));
    return printRunning(answer.status, health, json);
  }
  // a daemon process that holds the port's lock but does not answer is hung, not absent
  // (`cco daemon start` would say "already running")
  const held = answer.kind === 'none' ? readDaemonInfo(paths, port) : undefined;
  const probe: HealthProbe = held ? { kind: 'none' } : await probeHealth(baseUrl);
  if (answer.kind === 'error' && probe.kind !== 'other') return printErrorAnswer(baseUrl, port, answer, probe, json);
  // without a lock record, the process holding the port may still be a CCO daemon
  const silent = held ? { pid: held.pid } : probe.kind === 'none' ? daemonOnPort(findPortHolder(port), port) : undefined;
  if (json) process.stdout.write(JSON.stringify({ running: false, url: baseUrl, ...(silent ? { unresponsive_pid: silent.pid } : {}) }) + '\n');
  else if (silent) say(`❌ Daemon (PID ${silent.pid}) holds port ${port} but does not answer ${baseUrl}/api/status${answer.kind === 'none' && answer.timedOut ? ` within ${HEALTH_ANSWER_MS / 1000} s` : ''}. Its log: \`cco daemon logs${portFlag(port)}\`. Restart it: \`cco daemon restart${portFlag(port)}\` (or \`kill ${silent.pid}\`).`);
  else if (probe.kind === 'other') say(`❌ ${notCcoMessage(baseUrl, port, 'cco daemon start --port {port}', probe)}`);
  else say(`❌ ${notRunningMessage(baseUrl, port, portOpt, probe.kind === 'none' ? findPortHolder(port) : undefined)}`);
  return 1;
}

const portFlag = (port: number): string => (port !== 3000 ? ` --port ${port}` : '');

function printRunning(s: Status, health: Record<string, Check> | undefined, json: boolean): number {
  // /health's checks that /api/status does not list (its parts are there already)
  const extra = Object.fromEntries(Object.entries(health ?? {}).filter(([name]) => !(name in s.parts)));
  if (json) {
    process.stdout.write(JSON.stringify({ running: true, ...s, ...(health ? { checks: health } : {}) }, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `✅ Daemon is running (PID ${s.pid}, version ${s.version}, up ${s.uptime_seconds}s, ${s.memory_usage_mb} MB)`,
    `   URL: ${s.url}`,
    `   Sidecar: ${s.sidecar_url ?? '(not running)'}`,
    ...(typeof s.parts.sidecar?.moved_from_port === 'number' ? [`⚠️  Sidecar: port ${s.parts.sidecar.moved_from_port} was taken, so it listens on another (agents are told; \`curl localhost:${s.parts.sidecar.moved_from_port}\` reaches something else). Set [sidecar] port in daemon.toml to fix one.`] : []),
    `   VFS: ${s.vfs}`,
    `   Store: ${s.store}`,
    `   Agents: ${s.agents}`,
    `${icon(s.sealed_files.status)} Sealed files: ${s.sealed_files.status}${s.sealed_files.error ? ` — ${s.sealed_files.error}` : ''}`,
    ...checkLines(extra),
    ...checkLines(s.parts),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/**
 * /api/status answered with an error (503 database_unavailable when PostgreSQL is down): the
 * daemon runs and said what is wrong, so that is shown, with /health's checks (it answers 503
 * with every part's when degraded). A restart would not help a database that is down.
 */
function printErrorAnswer(baseUrl: string, port: number, a: { http: number; code?: string; message?: string }, probe: HealthProbe, json: boolean): number {
  const checks = healthChecks(probe);
  const pid = probe.kind === 'cco' ? probe.pid : undefined;
  if (json) {
    const error = { http_status: a.http, ...(a.code ? { code: a.code } : {}), ...(a.message ? { message: a.message } : {}) };
    process.stdout.write(JSON.stringify({ running: true, url: baseUrl, ...(pid !== undefined ? { pid } : {}), error, ...(checks ? { checks } : {}) }, null, 2) + '\n');
    return 1;
  }
  const why = [a.code, a.message].filter(Boolean).join(': ') || 'no reason given';
  const lines = [
    `❌ Daemon${pid !== undefined ? ` (PID ${pid})` : ''} runs at ${baseUrl} but cannot report its status: HTTP ${a.http} ${why}`,
    ...(checks
      ? [`   Its checks (${baseUrl}/health):`, ...checkLines(checks).map((l) => `   ${l}`)]
      : [`   ${baseUrl}/health did not answer within ${HEALTH_ANSWER_MS / 1000} s either.`]),
    `   Fix what is down above (\`cco doctor\` checks the database connection); its log: \`cco daemon logs${portFlag(port)}\`.`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 1;
}
