import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import type { Logger } from '../core/logger.js';

/**
 * The guides' "Generate heap dump: kill -USR2 <pid>". Node's default for SIGUSR2 is to end the
 * process, so the guide's diagnostic step killed the daemon. The snapshot goes beside the logs
 * (the daemon's own folder, private); writing it holds the event loop for as long as it takes
 * (a second or two for this daemon's heap), which the log says.
 */
export function onHeapSnapshotSignal(logDir: string, logger: () => Pick<Logger, 'warn' | 'error'> | undefined): () => void {
  const handler = (): void => {
    const file = join(logDir, `heap-${process.pid}-${new Date().toISOString().replace(/[:.]/g, '-')}.heapsnapshot`);
    const t0 = Date.now();
    // set before the daemon starts (a signal during its start would end it): until its logger
    // exists, stderr (the daemon's stderr file under `cco daemon start`)
    const log = logger() ?? { warn: (_o: object, m: string) => process.stderr.write(`${m}\n`), error: (_o: object, m: string) => process.stderr.write(`${m}\n`) };
    try {
      mkdirSync(logDir, { recursive: true, mode: 0o700 });
      writeHeapSnapshot(file);
      log.warn({ file, ms: Date.now() - t0 }, `heap snapshot written to ${file} (SIGUSR2); open it in Chrome DevTools > Memory`);
    } catch (e) {
      log.error({ err: (e as Error).message, file }, `heap snapshot failed (SIGUSR2): ${(e as Error).message}`);
    }
  };
  process.on('SIGUSR2', handler);
  return () => process.off('SIGUSR2', handler);
}
