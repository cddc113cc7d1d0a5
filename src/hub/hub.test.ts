import { describe, expect, it } from 'vitest';
import { Hub } from './hub.js';

describe('Hub', () => {
  it('numbers messages, fans them out and replays the recent ones', () => {
    const hub = new Hub(3);
    const seen: string[] = [];
    const off = hub.subscribe((m) => seen.push(`${m.seq}:${m.type}`));
    hub.publish('log', { msg: 'a' });
    hub.publish('task_update', { id: 1 });
    off();
    hub.publish('log', { msg: 'b' });
    hub.publish('log', { msg: 'c' });
    expect(seen).toEqual(['1:log', '2:task_update']);
    expect(hub.recent().map((m) => m.seq)).toEqual([2, 3, 4]);
    expect(hub.recent({ afterSeq: 3 }).map((m) => m.seq)).toEqual([4]);
    expect(hub.recent({ types: ['task_update'] })).toHaveLength(1);
  });
});
