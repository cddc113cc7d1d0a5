import { describe, expect, it } from 'vitest';
import { BacklogWatch } from './queue.js';

describe('BacklogWatch (the "queue backing up" warning)', () => {
  it('warns once when the waiting tasks reach the threshold, again only after the queue caught up', () => {
    const said: string[] = [];
    const logger = { warn: (_o: unknown, m: string) => void said.push(`warn ${m}`), info: (_o: unknown, m: string) => void said.push(`info ${m}`) };
    const w = new BacklogWatch(8, 2, logger as never);
    for (const n of [1, 5, 8, 9, 12, 6, 4, 3, 8]) w.check(n);
    expect(said).toEqual([
      'warn Task queue backing up: 8 pending for 2 runner(s); they will run in turn (raise [pipeline] concurrency in daemon.toml to run more at once)',
      'info pipeline queue caught up',
      'warn Task queue backing up: 8 pending for 2 runner(s); they will run in turn (raise [pipeline] concurrency in daemon.toml to run more at once)',
    ]);
  });
});
