import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { daemonLogFile } from '../config/paths.js';
import { sidecarPort } from '../config/daemon-config.js';
import { isHealthy, startDetached, stopDaemon } from '../daemon/control.js';
import { readDaemonInfo } from '../daemon/lock.js';
import { cliContext, fatal, say } from './common.js';
import { printStatus } from './status.js';

/** `cco daemon start|stop|restart|status|logs [--port N]`. */
export async function main(args: string[]): Promise<number> {
  let code = 0;
  const program = new Command('cco daemon').description('Manage the CCO daemon').exitOverride();
  const port = (c: Command) => c.option('--port <port>', 'daemon port');

  port(program.command('start').description('Start the daemon in the background'))
    .option('--timeout <ms>', 'how long to wait for it to become healthy', '10000')
    .option('--log-level <level>', 'trace|debug|info|warn|error')
    .action(async (o: { port?: string; timeout: string; logLevel?: string }) => {
      code = await start(o.port, Number(o.timeout), o.logLevel ? ['--log-level', o.logLevel] : []);
    });
  port(program.command('stop').description('Stop the daemon')).action(async (o: { port?: string }) => {
    code = await stop(o.port);
  });
  port(program.command('restart').description('Restart the daemon (recreates the temp settings files)')).action(async (o: { port?: string }) => {
    await stop(o.port, true);
    code = await start(o.port, 10_000);
  });
  port(program.command('status').description('Show daemon status'))
    .option('--json', 'machine-readable')
    .action(async (o: { port?: string; json?: boolean }) => {
      code = await printStatus(o.port, !!o.json);
    });
  port(program.command('logs').description('Show the daemon log (JSON lines)'))
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many lines', '100')
    .action(async (o: { port?: string; follow?: boolean; lines: string }) => {
      code = await logs(o.port, !!o.follow, Number(o.lines));
    });
  await program.parseAsync(args, { from: 'user' });
  return code;
}

async function start(portOpt: string | undefined, timeoutMs: number, extraArgs: string[] = []): Promise<number> {
  const { paths, port, baseUrl, config } = cliContext({ port: portOpt });
  const running = port !== 0 ? readDaemonInfo(paths, port) : undefined;
  if (running) {
    say(`❌ Daemon already running on port ${running.port} (PID ${running.pid}). Use \`cco daemon restart\` or another --port.`);
    return 1;
  }
  if (port !== 0 && (await isHealthy(baseUrl, 300))) {
    say(`❌ Something already answers on ${baseUrl} (another CCO with a different CCO_HOME?). Use another --port.`);
    return 1;
  }
  const r = await startDetached(paths, port, { timeoutMs, extraArgs });
  if (!r.ok) {
    say(`❌ ${r.message}`);
    say(`   Logs: ${r.logFile}  (cco daemon logs)`);
    return 1;
  }
  const url = `http://localhost:${r.info.port}`;
  process.stdout.write(
    `✅ Daemon started successfully\n   PID: ${r.info.pid}\n   VFS: ${paths.tmpDir}\n   Dashboard: ${url}\n   Port: ${r.info.port}\n   Logs: ${r.info.logFile}\n`,
  );
  // the sidecar's default port (the daemon's + 1) was taken and the OS chose another: agents are
  // told its URL, but the guides' `curl localhost:<port + 1>/health` would reach something else
  const expected = sidecarPort({ daemon: { ...config.daemon, port: r.info.port }, sidecar: config.sidecar });
  if (r.info.sidecarPort !== undefined && expected !== 0 && r.info.sidecarPort !== expected) {
    process.stdout.write(`⚠️  Sidecar: port ${expected} was taken, so it listens on ${r.info.sidecarPort}. Set [sidecar] port in daemon.toml to fix one.\n`);
  }
  return 0;
}

async function stop(portOpt: string | undefined, quiet = false): Promise<number> {
  const { paths, port } = cliContext({ port: portOpt });
  const r = await stopDaemon(paths, port);
  if (!r.stopped) {
    if (!quiet) say(`❌ Daemon is not running (port ${port}). Start it with \`cco daemon start\`.`);
    return 1;
  }
  process.stdout.write(`✅ Daemon stopped (PID ${r.pid})${r.forced ? ' — it did not exit in time and was killed' : ''}\n`);
  return 0;
}

async function logs(portOpt: string | undefined, follow: boolean, lines: number): Promise<number> {
  const { paths, port } = cliContext({ port: portOpt });
  const file = readDaemonInfo(paths, port)?.logFile ?? daemonLogFile(paths, port);
  if (!existsSync(file)) fatal(`No daemon log at ${file} yet. Start the daemon with \`cco daemon start\`.`);
  const child = spawn('tail', ['-n', String(Number.isInteger(lines) && lines > 0 ? lines : 100), ...(follow ? ['-F'] : []), file], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 0)));
}
