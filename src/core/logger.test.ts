import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-logger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the daemon log', () => {
  it("has lines the guides' commands read: level labels, an ISO timestamp, secrets masked", async () => {
    const file = join(dir, 'daemon.log');
    const { logger, flush } = createLogger({ level: 'info', file });
    logger.error({ err: 'x' }, 'provider failed with key sk-ant-api03-abcdefghijklmnop');
    logger.debug('not at this level');
    logger.warn('slow upstream');
    await flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; time: number; timestamp: string; msg: string });
    expect(lines.map((l) => l.level)).toEqual(['error', 'warn']);
    // jq 'select(.level == "error")' and jq 'select(.timestamp > "…")'
    expect(lines[0]?.timestamp).toBe(new Date(lines[0]?.time ?? 0).toISOString());
    expect(lines[0]?.msg).toBe('provider failed with key [REDACTED]');
    // the user's only: prompts, paths and errors are in there
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('has every line on disk once flush() resolves (sonic-boom called back at once with minLength 0), JSON whole', async () => {
    for (let i = 0; i < 20; i++) {
      const file = join(dir, `flush-${i}.log`);
      const { logger, flush } = createLogger({ level: 'info', file });
      logger.error({ command: 'DEPLOY_TOKEN="s3cr3tvalue" ./deploy.sh' }, 'deploy failed');
      logger.warn('second');
      await flush();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines, `round ${i}`).toHaveLength(2);
      expect((JSON.parse(lines[0] as string) as { command: string }).command).toBe('DEPLOY_TOKEN=[REDACTED] ./deploy.sh');
    }
  });

  it.skipIf(!existsSync('/dev/full'))('a log file that cannot be written (ENOSPC) neither crashes the process nor hangs its exit', () => {
    const logger = fileURLToPath(new URL('./logger.ts', import.meta.url));
    const script = `
      const { createLogger } = await import(${JSON.stringify(logger)});
      const { logger, buffer, ready } = createLogger({ level: 'info', file: '/dev/full' });
      await ready;
      for (let i = 0; i < 50; i++) logger.info({ i }, 'a line for a full disk');
      await new Promise((r) => setTimeout(r, 300));
      logger.info('still alive');
      console.log(JSON.stringify(buffer.recent(100, 'error').map((r) => r.msg)));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    // before: an uncaught ENOSPC, then pino's final flushSync retried for ever (killed by the timeout)
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the daemon log \/dev\/full cannot be written \(ENOSPC\)/);
  });
});
