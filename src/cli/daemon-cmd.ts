import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { daemonLogFile } from '../config/paths.js';
import { sidecarPort } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';
import { inspectOwner } from '../core/owner-lock.js';
import { expectedStoreLocation, notCcoMessage, startDetached, stopDaemon, whoAnswers } from '../daemon/control.js';
import { lockFileOf, readDaemonInfo } from '../daemon/lock.js';
import { findPortHolder, sidecarOwner } from '../daemon/port-holder.js';
import type { DaemonInfo } from '../daemon/lock.js';
import { cliContext, fatal, notRunningMessage, say } from './common.js';
import { printStatus } from './status.js';

const REINDEX_HELP = 'compare every stored agent result file with the database at this start, indexing those without a row (after restoring the database from an older backup)';

/** `cco daemon start|stop|restart|status|logs [--port N]`. */
export async function main(args: string[]): Promise<number> {
  let code = 0;
  const program = new Command('cco daemon').description('Manage the CCO daemon').exitOverride();
  const port = (c: Command) => c.option('--port <port>', 'daemon port');

  port(program.command('start').description('Start the daemon in the background'))
    .option('--timeout <ms>', 'how long to wait for it to become healthy', '10000')
    .option('--log-level <level>', 'trace|debug|info|warn|error')
    .option('--reindex-results', REINDEX_HELP)
    .action(async (o: { port?: string; timeout: string; logLevel?: string; reindexResults?: boolean }) => {
      // (was: `abc` or 0 waited for nothing, said it failed, and the daemon started all the same)
      const timeoutMs = parseLineCount(o.timeout);
      if (!timeoutMs) fatal(`Invalid --timeout ${JSON.stringify(o.timeout)}: give the milliseconds to wait for the daemon, a whole number above 0 (e.g. cco daemon start --timeout 20000)`, 2);
      code = await start(o.port, timeoutMs, [...(o.logLevel ? ['--log-level', o.logLevel] : []), ...(o.reindexResults ? ['--reindex-results'] : [])]);
    });
  port(program.command('stop').description('Stop the daemon')).action(async (o: { port?: string }) => {
    // a daemon.toml edited wrongly while the daemon ran does not keep it from being stopped
    code = (await stop(o.port, false, true)).code;
  });
  port(program.command('restart').description('Restart the daemon (recreates the temp settings files)'))
    .option('--reindex-results', REINDEX_HELP)
    .action(async (o: { port?: string; reindexResults?: boolean }) => {
      // what holds the port and is not this home's daemon was named by stop: start would only repeat it
      if ((await stop(o.port, true)).refused) code = 1;
      else code = await start(o.port, 10_000, o.reindexResults ? ['--reindex-results'] : []);
    });
  port(program.command('status').description('Show daemon status'))
    .option('--json', 'machine-readable')
    .action(async (o: { port?: string; json?: boolean }) => {
      code = await printStatus(o.port, !!o.json);
    });
  port(program.command('logs').description('Show the daemon log (JSON lines)'))
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many lines', '100')
    .addOption(new Option('-l, --level <level>', 'only lines at this level or above').choices(Object.keys(LOG_LEVELS)))
    .action(async (o: { port?: string; follow?: boolean; lines: string; level?: keyof typeof LOG_LEVELS }) => {
      const lines = parseLineCount(o.lines);
      if (lines === undefined) fatal(`Invalid --lines ${JSON.stringify(o.lines)}: give a whole number of lines, 0 or more (e.g. cco daemon logs --lines 50)`, 2);
      code = await logs(o.port, !!o.follow, lines, o.level);
    });
  await program.parseAsync(args, { from: 'user' });
  return code;
}

async function start(portOpt: string | undefined, timeoutMs: number, extraArgs: string[] = []): Promise<number> {
  const { paths, port, baseUrl, config } = cliContext({ port: portOpt });
  if (port !== 0) {
    const refusal = await whyNotStart(paths, port, baseUrl, expectedStoreLocation(config, paths));
    if (refusal) {
      say(`❌ ${refusal}`);
      return 1;
    }
  }
  const r = await startDetached(paths, port, { timeoutMs, extraArgs });
  if (!r.ok) {
    say(`❌ ${r.message}`);
    say(`   Logs: ${r.logFile}  (cco daemon logs)`);
    return 1;
  }
  const url = `http://localhost:${r.info.port}`;
  process.stdout.write(
    `✅ Daemon started successfully\n   PID: ${r.info.pid}\n   VFS: ${paths.tmpDir}\n   Dashboard: ${url}  (${portOpt !== undefined ? `cco dashboard --port ${r.info.port}` : 'cco dashboard'} opens it with its access token)\n   Port: ${r.info.port}\n   Logs: ${r.info.logFile}\n`,
  );
  // the sidecar's default port (the daemon's + 1) was taken and the OS chose another: agents are
  // told its URL, but the guides' `curl localhost:<port + 1>/health` would reach something else.
  // A daemon on an OS-chosen port (0) has an OS-chosen sidecar port too: nothing was taken.
  const expected = port === 0 ? 0 : sidecarPort({ daemon: { ...config.daemon, port: r.info.port }, sidecar: config.sidecar });
  if (r.info.sidecarPort !== undefined && expected !== 0 && r.info.sidecarPort !== expected) {
    process.stdout.write(`⚠️  Sidecar: port ${expected} was taken, so it listens on ${r.info.sidecarPort}. Set [sidecar] port in daemon.toml to fix one.\n`);
  }
  return 0;
}

/** Why a daemon must not be started on `port` (one runs there already, or something else holds it), or undefined. */
async function whyNotStart(paths: Paths, port: number, baseUrl: string, store: string): Promise<string | undefined> {
  const lock = inspectOwner<DaemonInfo>(lockFileOf(paths, port));
  if (lock.setAside) sayLockSetAside(lock.setAside);
  const running = lock.owner;
  if (running) return `Daemon already running on port ${running.port} (PID ${running.pid}). Use \`cco daemon restart${portFlag(running.port)}\` or another --port.`;
  // as long as /health may take: a daemon whose Redis is down answers in ~2 s
  const answer = await whoAnswers(baseUrl, port, store);
  if (answer.kind === 'mine') return `Daemon already running on port ${port} (PID ${answer.pid}; its lock file was missing). Use \`cco daemon restart${portFlag(port)}\` or another --port.`;
  if (answer.kind === 'foreign') return foreignDaemonMessage(baseUrl, answer);
  if (answer.kind === 'other') return notCcoMessage(baseUrl, port, 'cco daemon start --port {port}', answer);
  return undefined;
}

function foreignDaemonMessage(baseUrl: string, a: { pid: number; database: string | undefined }): string {
  if (!a.database) return `A CCO daemon (PID ${a.pid}) answers on ${baseUrl} but its /health names no database, so it cannot be told to be this home's. Stop it (kill ${a.pid}) or use another --port.`;
  return `Another CCO daemon (PID ${a.pid}${a.database ? `, database ${a.database}` : ''}) answers on ${baseUrl}: it belongs to a different CCO_HOME or database. Stop it there (or kill ${a.pid}), or use another --port.`;
}

/** For `stop` on a port a daemon's sidecar holds: which daemon to stop instead (it takes its sidecar along). */
function sidecarToStop(port: number, answer: { sidecar?: true }): string | undefined {
  const owner = sidecarOwner(findPortHolder(port), port);
  if (owner) return `Port ${port} is the sidecar port of the CCO daemon on port ${owner.daemonPort} (PID ${owner.pid}). To stop that daemon and its sidecar: cco daemon stop${portFlag(owner.daemonPort)}`;
  if (answer.sidecar) return `Port ${port} is the sidecar port of a CCO daemon (by default the one on port ${port - 1}). To stop that daemon and its sidecar: cco daemon stop${portFlag(port - 1)}`;
  return undefined;
}

const portFlag = (port: number): string => (port !== 3000 ? ` --port ${port}` : '');

function sayLockSetAside(aside: string): void {
  say(`⚠️  The daemon's lock file could not be read (corrupt); kept it as ${aside}.`);
}

/** `refused`: something answers on the port that is not this home's daemon (said already). */
async function stop(portOpt: string | undefined, quiet = false, lenient = false): Promise<{ code: number; refused?: boolean }> {
  const { paths, port, baseUrl, config } = cliContext({ port: portOpt, lenient });
  const r = await stopDaemon(paths, port, { target: { baseUrl, store: expectedStoreLocation(config, paths) } });
  if (r.setAside) sayLockSetAside(r.setAside);
  if (!r.stopped) {
    if (r.answer?.kind === 'foreign') say(`❌ Not stopped: ${foreignDaemonMessage(baseUrl, r.answer)}`);
    else if (r.answer?.kind === 'other') say(`❌ No CCO daemon to stop on port ${port}. ${sidecarToStop(port, r.answer) ?? notCcoMessage(baseUrl, port, 'cco daemon start --port {port}', r.answer)}`);
    else if (!quiet) say(`❌ ${notRunningMessage(baseUrl, port, portOpt, findPortHolder(port))}`);
    return { code: 1, refused: r.answer !== undefined };
  }
  const how = r.unrecorded ? ` — found through /health: its lock file was ${r.setAside ? 'unreadable' : 'missing'}` : '';
  process.stdout.write(`✅ Daemon stopped (PID ${r.pid})${r.forced ? ' — it did not exit in time and was killed' : ''}${how}\n`);
  return { code: 0 };
}

/** `--lines`: a whole number, 0 or more (0 prints nothing, as tail does); undefined for anything else. */
export function parseLineCount(value: string): number | undefined {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** pino's level numbers: lines carry the label (`"level":"warn"`), logs of older versions the number. */
const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A log line's level as a number; undefined for a line that is not a log record. */
export function lineLevel(line: string): number | undefined {
  try {
    const l = (JSON.parse(line) as { level?: unknown }).level;
    return typeof l === 'number' ? l : typeof l === 'string' ? LOG_LEVELS[l as keyof typeof LOG_LEVELS] : undefined;
  } catch {
    return undefined;
  }
}

/** The last `n` lines of a log at `min` or above (the newest 64 MB of the file are read). */
export function lastLinesAtLevel(file: string, min: number, n: number): string[] {
  const text = readTail(file, 64 * 1024 * 1024);
  const out: string[] = [];
  const all = text.split('\n');
  for (let i = all.length - 1; i >= 0 && out.length < n; i--) {
    const line = all[i] as string;
    if ((lineLevel(line) ?? -1) >= min) out.push(line);
  }
  return out.reverse();
}

function readTail(file: string, max: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const text = buf.toString('utf8');
    // a read that starts mid-file drops its first, partial line
    return len < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    closeSync(fd);
  }
}

async function logs(portOpt: string | undefined, follow: boolean, lines: number, level?: keyof typeof LOG_LEVELS): Promise<number> {
  const { paths, port } = cliContext({ port: portOpt, lenient: true });
  let file = readDaemonInfo(paths, port)?.logFile ?? daemonLogFile(paths, port);
  if (!existsSync(file)) {
    // a daemon started with --port 0 logs to the port-0 file: once it is gone, only its log knows its port
    const portZero = daemonLogFile(paths, 0);
    if (port !== 0 && loggedStartOn(portZero, port)) {
      say(`(The daemon on port ${port} was started with --port 0: its log is ${portZero}, shared by such daemons.)`);
      file = portZero;
    } else fatal(`No daemon log at ${file} yet. Start the daemon with \`cco daemon start\`.`);
  }
  if (level !== undefined) {
    const min = LOG_LEVELS[level];
    for (const line of lastLinesAtLevel(file, min, lines)) process.stdout.write(`${line}\n`);
    if (!follow) return 0;
    // new lines from here on, filtered as they come
    const tail = spawn('tail', ['-n', '0', '-F', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: tail.stdout }).on('line', (line) => {
      if ((lineLevel(line) ?? -1) >= min) process.stdout.write(`${line}\n`);
    });
    return new Promise((resolve) => tail.on('exit', (c) => resolve(c ?? 0)));
  }
  const child = spawn('tail', ['-n', String(lines), ...(follow ? ['-F'] : []), file], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 0)));
}

/** Whether a daemon log records a daemon that started listening on `port` (its "daemon started" line). */
export function loggedStartOn(file: string, port: number): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((line) => {
    if (!line.includes('"daemon started"')) return false;
    try {
      return (JSON.parse(line) as { port?: unknown }).port === port;
    } catch {
      return false;
    }
  });
}
