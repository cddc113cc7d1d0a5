import { describe, expect, it } from 'vitest';
import { TuiState } from './state.js';

describe('TuiState', () => {
  it('tracks pipeline agents, Claude Code sessions, tasks, requests and logs from hub messages', () => {
    const s = new TuiState();
    const now = Date.now();
    s.apply({ seq: 1, type: 'agent_activity', ts: now, data: { agent: 'analyst', name: 'chief-architect', stage: 'analysis', status: 'Working', task_id: 't1', tasks_done: 0 } });
    s.apply({ seq: 2, type: 'agent_activity', ts: now, data: { session_id: 's1', status: 'Working', current_tool: 'Bash', tools_run: 2, last_event: 'PreToolUse' } });
    s.apply({ seq: 3, type: 'task_update', ts: now, data: { task_id: 't1', status: 'running', stage: 'analysis' } });
    s.apply({ seq: 4, type: 'gateway_request', ts: now, data: { model: 'claude-haiku-4-5', status: 200, latencyMs: 12, costUsd: 0.5, cacheHit: true } });
    s.apply({ seq: 5, type: 'log', ts: now, data: { time: now, level: 'info', msg: 'hello' } });
    expect(s.agents.get('analyst')).toMatchObject({ name: 'chief-architect', kind: 'pipeline', status: 'Working', task: 't1' });
    expect(s.agents.get('s1')).toMatchObject({ kind: 'session', status: 'Working', task: 'Bash', done: 2 });
    expect(s.tasks.get('t1')).toMatchObject({ status: 'running', stage: 'analysis' });
    expect(s.requests[0]).toMatchObject({ model: 'claude-haiku-4-5', status: '200', latencyMs: 12, cost: 0.5, cacheHit: true });
    expect(s.rps(now)).toBeCloseTo(0.1);
    expect(s.costToday(now)).toBe(0.5);
    expect(s.logs[0]?.msg).toBe('hello');
    expect(s.lastSeq).toBe(5);
    s.apply({ seq: 6, type: 'agent_activity', ts: now, data: { agent: 'analyst', stage: 'analysis', status: 'Ready', task_id: null, tasks_done: 1 } });
    expect(s.agents.get('analyst')).toMatchObject({ status: 'Ready', done: 1 });
    expect(s.agents.get('analyst')?.task).toBeUndefined();
  });

  it('never passes a control character on to the terminal: what anyone submitted could set its title, clear it or write the clipboard', () => {
    const s = new TuiState();
    const now = Date.now();
    const evil = 'ok\u001b]0;PWNED\u0007 \u001b]52;c;cHduZWQ=\u0007\u001b[2J\u009b2J\u007f';
    s.apply({ seq: 1, type: 'task_update', ts: now, data: { task_id: 't1', status: 'queued', requirement: evil } });
    s.apply({ seq: 2, type: 'agent_activity', ts: now, data: { session_id: 's1', status: 'Working', current_tool: evil } });
    s.apply({ seq: 3, type: 'gateway_request', ts: now, data: { model: evil, status: 200 } });
    s.apply({ seq: 4, type: 'log', ts: now, data: { level: 'info', msg: `task created: ${evil}` } });
    const shown = [s.tasks.get('t1')?.requirement, s.agents.get('s1')?.task, s.requests[0]?.model, s.logs[0]?.msg];
    for (const text of shown) {
      expect(text).toContain('PWNED');
// eslint-disable-next-line no-control-regex -- finding them is the point
      expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it('keeps its lists bounded', () => {
    const s = new TuiState({ requests: 10, logs: 5, tasks: 3, agents: 3 });
    for (let i = 1; i <= 100; i++) {
      s.apply({ seq: i, type: 'gateway_request', ts: i, data: { model: 'm' } });
      s.apply({ seq: i, type: 'log', ts: i, data: { msg: String(i) } });
      s.apply({ seq: i, type: 'task_update', ts: i, data: { task_id: `t${i}`, status: 'queued' } });
      s.apply({ seq: i, type: 'agent_activity', ts: i, data: { agent: `a${i}`, status: 'Ready' } });
    }
    expect(s.requests).toHaveLength(10);
    expect(s.logs.map((l) => l.msg)).toEqual(['96', '97', '98', '99', '100']);
    expect([...s.tasks.keys()]).toEqual(['t98', 't99', 't100']);
    expect(s.agents.size).toBe(3);
  });

  it('lists the newest tasks first and keeps them when the pane is shorter than the list', () => {
    const s = new TuiState();
    const t0 = 1_800_000_000_000;
    // GET /api/tasks answers newest first; the client upserts them in that order.
    const polled = Array.from({ length: 30 }, (_, i) => ({ id: `t${29 - i}`, status: 'completed', created_at: t0 + (29 - i) * 1000, updated_at: t0 + (29 - i) * 1000 + 500 }));
    for (const t of polled) s.task(t, t0 + 60_000);
    expect(s.recentTasks(5).map((t) => t.id)).toEqual(['t29', 't28', 't27', 't26', 't25']);
    // A task submitted now arrives on the hub (no created_at) and goes on top; a later poll keeps it there.
    s.apply({ seq: 1, type: 'task_update', ts: t0 + 70_000, data: { task_id: 't30', status: 'queued' } });
    for (const t of polled) s.task(t, t0 + 75_000);
    expect(s.recentTasks(3).map((t) => t.id)).toEqual(['t30', 't29', 't28']);
  });

  it('counts the results a sidecar agent stored (the message carries no count)', () => {
    const s = new TuiState();
    s.apply({ seq: 1, type: 'agent_activity', ts: 1, data: { action: 'spawned', agent_id: 'api-designer-1', agent_type: 'api-designer' } });
    for (let i = 0; i < 2; i++) s.apply({ seq: 2 + i, type: 'agent_activity', ts: 2 + i, data: { action: 'result_stored', agent_id: 'api-designer-1', agent_type: 'api-designer', status: 'success' } });
    s.apply({ seq: 4, type: 'agent_activity', ts: 4, data: { action: 'event_received', agent_id: 'api-designer-1', agent_type: 'api-designer', count: 3 } });
    expect(s.agents.get('api-designer-1')).toMatchObject({ kind: 'sidecar', name: 'api-designer', done: 2 });
  });
});

describe('wrappedRows (the TUI header counted, so the frame stays shorter than the terminal)', () => {
  it('counts the rows items take when they wrap, an item wider than the terminal included', async () => {
    const { wrappedRows } = await import('./app.js');
    expect(wrappedRows([10, 10, 10], 3, 80)).toBe(1);
    expect(wrappedRows([10, 10, 10], 3, 23)).toBe(2);
    expect(wrappedRows([10, 10, 10], 3, 10)).toBe(3);
    expect(wrappedRows([45], 3, 20)).toBe(3);
    expect(wrappedRows([5, 45, 5], 1, 20)).toBe(4);
  });
});
