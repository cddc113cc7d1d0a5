import { Command } from 'commander';
import { httpJson } from '../core/http-json.js';
import { notCcoMessage, probeHealth } from '../daemon/control.js';
import { readDaemonInfo } from '../daemon/lock.js';
import { cliContext, say, startCommand } from './common.js';

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
  parts: Record<string, { status: string; [k: string]: unknown }>;
}

export async function printStatus(portOpt: string | undefined, json: boolean): Promise<number> {
  const { baseUrl, paths, port } = cliContext({ port: portOpt });
  let s: Status;
  try {
    const r = await httpJson<Status>('GET', `${baseUrl}/api/status`, undefined, { timeoutMs: 3000 });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    s = r.body;
  } catch {
    // a daemon process that holds the port's lock but does not answer is hung, not absent
    // (`cco daemon start` would say "already running")
    const held = readDaemonInfo(paths, port);
    if (json) process.stdout.write(JSON.stringify({ running: false, url: baseUrl, ...(held ? { unresponsive_pid: held.pid } : {}) }) + '\n');
    else if (held) say(`❌ Daemon (PID ${held.pid}) holds port ${port} but does not answer ${baseUrl}/api/status. Restart it: \`cco daemon restart${port !== 3000 ? ` --port ${port}` : ''}\` (or \`kill ${held.pid}\`).`);
    else if ((await probeHealth(baseUrl)).kind === 'other') say(`❌ ${notCcoMessage(baseUrl, port, 'cco daemon start --port {port}')}`);
    else say(`❌ Daemon is not running at ${baseUrl}. Start it with \`${startCommand(portOpt)}\`.`);
    return 1;
  }
  if (json) {
    process.stdout.write(JSON.stringify({ running: true, ...s }, null, 2) + '\n');
    return 0;
  }
  const icon = (st: string) => (st === 'ok' ? '✅' : st === 'disabled' ? '⏸️ ' : st === 'degraded' || st === 'starting' ? '⚠️ ' : '❌');
  const lines = [
    `✅ Daemon is running (PID ${s.pid}, version ${s.version}, up ${s.uptime_seconds}s, ${s.memory_usage_mb} MB)`,
    `   URL: ${s.url}`,
    `   Sidecar: ${s.sidecar_url ?? '(not running)'}`,
    ...(typeof s.parts.sidecar?.moved_from_port === 'number' ? [`⚠️  Sidecar: port ${s.parts.sidecar.moved_from_port} was taken, so it listens on another (agents are told; \`curl localhost:${s.parts.sidecar.moved_from_port}\` reaches something else). Set [sidecar] port in daemon.toml to fix one.`] : []),
    `   VFS: ${s.vfs}`,
    `   Store: ${s.store}`,
    `   Agents: ${s.agents}`,
    `${icon(s.sealed_files.status)} Sealed files: ${s.sealed_files.status}${s.sealed_files.error ? ` — ${s.sealed_files.error}` : ''}`,
    ...Object.entries(s.parts).map(([name, p]) => `${icon(p.status)} ${name}: ${p.status}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
