import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { HookRecords } from './records.js';

const { logger } = createLogger({ level: 'silent' });

describe('HookRecords', () => {
  it('waits for a quick write, answers after the wait for a slow one, and bounds the writes still running', async () => {
    const records = new HookRecords(logger, 30, 2);
    const seen: number[] = [];
    await records.add('PreToolUse', async () => 1, (id) => seen.push(id));
    expect(seen).toEqual([1]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = (id: number) => async () => (await gate, id);
    const t0 = Date.now();
    await records.add('PreToolUse', slow(2), (id) => seen.push(id));
    await records.add('PreToolUse', slow(3), (id) => seen.push(id));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(records.late).toBe(2);
    // two writes still running: the next event is not recorded, and nothing waits for it
    await records.add('PreToolUse', slow(4), (id) => seen.push(id));
    expect(records.dropped).toBe(1);
    release();
    await records.settled();
    expect(seen).toEqual([1, 2, 3]);
    expect(records.health()).toMatchObject({ records_late: 2, records_dropped: 1, records_running: 0 });
  });

  it('a write that fails does not fail the answer: counted, and named in health', async () => {
    const records = new HookRecords(logger, 30, 10);
    await records.add('Stop', () => Promise.reject(new Error('database is locked')), () => undefined);
    expect(records.failed).toBe(1);
    expect(records.health()).toMatchObject({ records_failed: 1, last_record_error: 'database is locked' });
  });
});
