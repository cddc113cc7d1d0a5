import { describe, expect, it } from 'vitest';
import { ActiveRequests } from './active.js';
import type { ActiveRequest } from './active.js';

const req = (id: string, startedAt: number, aborted: string[] = []): ActiveRequest => ({
  id,
  startedAt,
  model: 'm',
  provider: null,
  endpoint: 'messages',
  stream: false,
  sessionId: null,
  bytes: 0,
  state: 'routing',
  abort: () => void aborted.push(id),
  slot: -1,
});

describe('ActiveRequests', () => {
  it('adds and removes requests in any order, and lists the oldest first without internals', () => {
    const a = new ActiveRequests();
    const [r1, r2, r3] = [req('1', 100), req('2', 200), req('3', 300)];
    for (const r of [r1, r2, r3]) a.add(r);
    a.remove(r1); // the last one moves into its place
    expect(a.count).toBe(2);
    a.remove(r1); // not in it any more: nothing happens
    expect(a.count).toBe(2);
    expect(a.list(1000).map((r) => [r.id, r.ageMs])).toEqual([['2', 800], ['3', 700]]);
    expect(Object.keys(a.list(1000)[0] ?? {})).not.toContain('slot');
    a.remove(r3);
    a.remove(r2);
    expect(a.count).toBe(0);
    a.add(r1);
    expect(a.list(1000).map((r) => r.id)).toEqual(['1']);
  });

  it('kills the requests older than asked, even when each abort removes its request at once', () => {
    const a = new ActiveRequests();
    const aborted: string[] = [];
    const rs = [req('old1', 0, aborted), req('new', 900, aborted), req('old2', 10, aborted)];
    for (const r of rs) a.add(r);
    const removeOnAbort = (r: ActiveRequest) => {
      const abort = r.abort;
      r.abort = (e) => {
        abort(e);
        a.remove(r);
      };
    };
    rs.forEach(removeOnAbort);
    expect(a.kill(500, () => new Error('killed'), 1000).sort()).toEqual(['old1', 'old2']);
    expect(aborted.sort()).toEqual(['old1', 'old2']);
    expect(a.list(1000).map((r) => r.id)).toEqual(['new']);
  });

  it('settles when the last request leaves', async () => {
    const a = new ActiveRequests();
    const r = req('1', 0);
    a.add(r);
    const settled = a.settle(5000, () => new Error('x'));
    setTimeout(() => a.remove(r), 10);
    await settled;
    expect(a.count).toBe(0);
  });
});
