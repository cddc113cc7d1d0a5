import { describe, expect, it } from 'vitest';
import { SessionTable } from './sessions.js';

let clock = 0;
const session = (tenant: string) => ({ principal: { tenant }, lastSeen: ++clock, tenant });

describe('SessionTable', () => {
  it('a tenant flooding initialize only evicts its own oldest sessions', () => {
    const t = new SessionTable<ReturnType<typeof session>>({ perTenant: 5, total: 1000 });
    const mine = session('local');
    t.add('local-1', mine);
    const evicted: string[] = [];
    for (let i = 0; i < 1000; i++) evicted.push(...t.add(`a-${i}`, session('team-a')).map((s) => s.tenant));
    expect(t.get('local-1')).toBe(mine);
    expect(t.count('team-a')).toBe(5);
    expect(evicted).toHaveLength(995);
    expect(new Set(evicted)).toEqual(new Set(['team-a']));
    // the newest five are kept
    expect(t.ids().filter((id) => id.startsWith('a-'))).toEqual(['a-995', 'a-996', 'a-997', 'a-998', 'a-999']);
  });

  it('over the total cap, the tenant holding the most loses its least recently used session', () => {
    const t = new SessionTable<ReturnType<typeof session>>({ perTenant: 10, total: 6 });
    t.add('l1', session('local'));
    for (let i = 0; i < 4; i++) t.add(`a${i}`, session('team-a'));
    t.add('b1', session('team-b'));
    const out = t.add('b2', session('team-b'));
    expect(out.map((s) => s.tenant)).toEqual(['team-a']);
    expect(t.get('a0')).toBeUndefined();
    expect(t.get('l1')).toBeDefined();
    expect(t.size).toBe(6);
    // recently used sessions stay: a1 is touched, so a2 goes next
    t.get('a1')!.lastSeen = ++clock;
    expect(t.add('c1', session('team-c'))).toEqual([expect.objectContaining({ tenant: 'team-a' })]);
    expect(t.get('a1')).toBeDefined();
    expect(t.get('a2')).toBeUndefined();
  });

  it('never evicts the session being added, and counts removals', () => {
    const t = new SessionTable<ReturnType<typeof session>>({ perTenant: 1, total: 1 });
    expect(t.add('x', session('a'))).toEqual([]);
    expect(t.add('y', session('b')).map((s) => s.tenant)).toEqual(['a']);
    expect(t.ids()).toEqual(['y']);
    expect(t.delete('y')).toBe(true);
    expect(t.delete('y')).toBe(false);
    expect(t.count('b')).toBe(0);
    expect(t.size).toBe(0);
  });
});
