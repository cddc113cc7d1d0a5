import { Command } from 'commander';
import { writeFileAtomic } from '../core/atomic-file.js';
import { ConfigError } from '../config/config-error.js';
import { AlreadyRunningError } from '../daemon/lock.js';
import { DaemonStartError, startDaemon } from '../daemon/daemon.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { parsePort } from './common.js';
import type { RunHooks } from './code-cache.js';
import { mark } from '../core/startup-marks.js';
import { resolvePaths } from '../config/paths.js';
import { onHeapSnapshotSignal } from '../daemon/heap-snapshot.js';
import { DAEMON_START_HEAP, tuneHeap } from '../core/heap.js';
import { requestResultsReindex } from '../sidecar/results.js';

/** `cco run --port N`: the daemon in the foreground (also what `npm start` runs). */
export async function main(args: string[], hooks: RunHooks = {}): Promise<number> {
  mark('run command loaded');
  // a small young generation while the modules load; V8's own growth again once listening (core/heap.ts)
  const releaseStartHeap = tuneHeap(DAEMON_START_HEAP);
  const cmd = new Command('cco run')
    .description('Run the daemon in the foreground')
    .option('--port <port>', 'daemon port (0 lets the OS choose)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--log-level <level>', 'trace|debug|info|warn|error')
    .option('--log-stdout', 'also print JSON logs to stdout')
    .option('--ready-file <file>', 'write the daemon info here when ready (used by `cco daemon start`)')
    .option('--reindex-results', 'compare every stored agent result file with the database at this start, indexing those without a row (after restoring the database from an older backup)')
    .exitOverride();
  cmd.parse(args, { from: 'user' });
  const o = cmd.opts<{ port?: string; host?: string; logLevel?: string; logStdout?: boolean; readyFile?: string; reindexResults?: boolean }>();
  // the name the guides look for (`pkill -f "cco.*daemon"`)
  process.title = `cco-daemon${o.port !== undefined ? ` --port ${o.port}` : ''}`;
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  // Before the start: the daemon answers /health and carries its title while its modules still
  // start, and SIGUSR2's default would end it (the guides' "generate heap dump").
  onHeapSnapshotSignal(resolvePaths(process.env).logDir, () => daemon?.logger);
  // a marker the sidecar's start reads (and removes once every file is compared): a start that
  // fails before it (the port taken) leaves the request for the next one
  if (o.reindexResults) requestResultsReindex(resolvePaths(process.env).resultsDir);
  try {
    daemon = await startDaemon({
      ...(o.port !== undefined ? { port: parsePort(o.port) } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel as DaemonConfig['daemon']['log_level'] } : {}),
      ...(o.logStdout ? { logStdout: true } : {}),
      // `cco daemon start` runs this with --ready-file: its own message proposes its own command
      ...(o.readyFile ? {} : { portHint: 'cco run --port {port}' }),
    });
  } catch (e) {
    if (e instanceof DaemonStartError || e instanceof AlreadyRunningError || e instanceof ConfigError) {
      process.stderr.write(`❌ ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`❌ Daemon failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  process.title = `cco-daemon --port ${daemon.info.port}`;
  releaseStartHeap();
  const sidecar = daemon.modules.sidecar.url();
  process.stdout.write(
    [
      `Listening on ${daemon.url}`,
      `   Dashboard: ${daemon.url}/?token=${encodeURIComponent(daemon.accessToken)}`,
      `   Gateway:   ${daemon.url}/v1  (ANTHROPIC_BASE_URL=${daemon.url})`,
      `   Sidecar:   ${sidecar ?? '(disabled)'}`,
      `   VFS:       ${daemon.paths.tmpDir}`,
      `   Store:     ${daemon.store.dialect} ${daemon.store.location}`,
      `   Logs:      ${daemon.info.logFile}`,
      '',
    ].join('\n'),
  );
  if (o.readyFile) writeFileAtomic(o.readyFile, JSON.stringify(daemon.info), 0o600, { durable: false });
  daemon.logger.debug({ codeCache: hooks.codeCache ?? 'none' }, 'code loaded');
  hooks.ready?.();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        // pressed again while the graceful stop waits for requests in flight: now (what was
        // acknowledged is on disk already; the WAL keeps the store consistent)
        if (sig === 'SIGINT') {
          daemon.logger.warn({ signal: sig }, 'second signal: stopping at once');
          daemon.logger.flush();
          process.exit(130);
        }
        return;
      }
      stopping = true;
      daemon.logger.info({ signal: sig }, 'signal received');
      // Exit once closed even if a library left a handle open: the store is flushed by then.
      daemon.close().then(resolve, resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => stop('SIGHUP'));
  });
  process.exit(0);
}
