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

  it('keeps order across many wrap-arounds of its buffer, and honours limit', () => {
    const hub = new Hub(5);
    expect(hub.recent()).toEqual([]);
    hub.publish('log', 1);
    expect(hub.recent().map((m) => m.data)).toEqual([1]);
    for (let i = 2; i <= 23; i++) hub.publish('log', i);
    expect(hub.recent().map((m) => m.data)).toEqual([19, 20, 21, 22, 23]);
    expect(hub.recent({ limit: 2 }).map((m) => m.seq)).toEqual([22, 23]);
    expect(hub.recent({ afterSeq: 21, limit: 1 }).map((m) => m.seq)).toEqual([23]);
    expect(hub.lastSeq).toBe(23);
  });
});

describe('Hub.receive (a message relayed from another instance)', () => {
  it('numbers it in this hub, keeps its time and instance, and replays it after a seq', () => {
    const hub = new Hub(10);
    const seen: string[] = [];
    hub.subscribe((m) => seen.push(`${m.seq}:${m.type}:${m.instance ?? 'here'}`));
    hub.publish('log', 'mine');
    const r = hub.receive('task_update', { id: 7 }, 1234, 'b-host:3000');
    hub.publish('log', 'mine again');
    expect(r).toEqual({ seq: 2, type: 'task_update', ts: 1234, data: { id: 7 }, instance: 'b-host:3000' });
    expect(seen).toEqual(['1:log:here', '2:task_update:b-host:3000', '3:log:here']);
    expect(hub.recent({ afterSeq: 1 }).map((m) => m.seq)).toEqual([2, 3]);
    // a local message's envelope is unchanged: no instance field at all
    expect(Object.keys(hub.recent({ afterSeq: 2 })[0] as object)).toEqual(['seq', 'type', 'ts', 'data']);
  });
});
