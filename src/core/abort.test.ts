import { describe, expect, it } from 'vitest';
import { RequestAbort } from './abort.js';

describe('RequestAbort', () => {
  it('runs each listener once, in the order added, with the first reason kept', () => {
    const a = new RequestAbort();
    const calls: string[] = [];
    a.addEventListener('abort', () => calls.push(`one:${String(a.reason)}`));
    a.addEventListener('abort', () => calls.push('two'));
    expect(a.aborted).toBe(false);
    a.abort('first');
    a.abort('second');
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe('first');
    expect(calls).toEqual(['one:first', 'two']);
  });

  it('never runs a listener removed before, or added after, the abort', () => {
    const a = new RequestAbort();
    let removed = 0;
    let late = 0;
    const f = () => removed++;
    a.addEventListener('abort', f);
    a.removeEventListener('abort', f);
    a.removeEventListener('abort', () => undefined); // not added: nothing happens
    a.abort(new Error('gone'));
    a.addEventListener('abort', () => late++);
    expect([removed, late]).toEqual([0, 0]);
  });
});
