import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { BullQueue, OutageLog } from './bull-queue.js';

const envs: { cleanup(): void }[] = [];
afterEach(() => envs.splice(0).forEach((e) => e.cleanup()));

describe('OutageLog', () => {
  it('says the first error, then at most one line per interval with a count, and when it works again', () => {
    let now = 0;
    const lines: [string, string, Record<string, unknown>][] = [];
    const logger = {
      warn: (o: Record<string, unknown>, msg: string) => lines.push(['warn', msg, o]),
      info: (o: Record<string, unknown>, msg: string) => lines.push(['info', msg, o]),
    };
    const log = new OutageLog(logger as never, 30_000, () => now);
    log.ok();
    // two errors a second for 65 s
    for (; now <= 65_000; now += 500) log.error(now % 1000 ? 'worker' : 'queue', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    log.ok();
    log.ok();
    expect(lines.map(([level, msg]) => `${level}: ${msg}`)).toEqual([
      'warn: pipeline queue (redis) error; tasks wait in the store until the queue works again',
      'warn: pipeline queue (redis) still failing after 30 s: 60 more error(s) since the last line',
      'warn: pipeline queue (redis) still failing after 60 s: 60 more error(s) since the last line',
      'info: pipeline queue (redis) works again after 66 s (131 error(s))',
    ]);
    expect(lines[1]?.[2]).toMatchObject({ errors: 60, err: 'connect ECONNREFUSED 127.0.0.1:6379' });
    // the next outage is said again
    log.error('worker', new Error('x'));
    expect(lines).toHaveLength(5);
  });
});

describe('BullQueue with Redis unreachable', () => {
  it('logs the outage once, each line naming its module once', async () => {
    const env = tempCcoEnv();
    envs.push(env);
    const file = join(env.root, 'daemon.log');
    const { logger, flush } = createLogger({ level: 'info', file });
    const queue = new BullQueue('redis://127.0.0.1:1', { concurrency: 1, prefix: 'ccotest', logger: logger.child({ module: 'pipeline' }) });
    queue.start(async () => undefined);
    await new Promise((r) => setTimeout(r, 2500));
    await queue.close();
    await flush();
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('(redis)'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.match(/"module":"pipeline"/g)).toHaveLength(1);
  }, 15_000);
});
