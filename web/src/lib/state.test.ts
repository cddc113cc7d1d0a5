import { describe, expect, it } from 'vitest';
import type { Task } from './model';
import { DashboardState, canRetry, taskColumn, validationNote } from './state';

describe('DashboardState sidecar agents', () => {
  it('counts each result_stored per agent id (the message has no count), failed ones apart', () => {
    const s = new DashboardState();
    const msg = (seq: number, data: Record<string, unknown>) => ({ seq, type: 'agent_activity', ts: 1_800_000_000_000 + seq, data });
    s.apply(msg(1, { action: 'spawned', agent_id: 'api-designer-1', agent_type: 'api-designer', issues: ['I-1'] }));
    s.apply(msg(2, { action: 'spawned', agent_id: 'api-designer-2', agent_type: 'api-designer', issues: ['I-2'] }));
    for (let i = 0; i < 3; i++) s.apply(msg(3 + i, { action: 'result_stored', agent_id: 'api-designer-1', agent_type: 'api-designer', issue_id: 'I-1', status: 'completed', bytes: 10 }));
    s.apply(msg(6, { action: 'result_stored', agent_id: 'api-designer-2', agent_type: 'api-designer', issue_id: 'I-2', status: 'failed', bytes: 10 }));
    // other sidecar activity counts nothing
    s.apply(msg(7, { action: 'event_received', agent_id: 'api-designer-1', agent_type: 'api-designer', event_type: 'x', count: 4 }));
    expect(s.agents.get('api-designer-1')).toMatchObject({ kind: 'sidecar', name: 'api-designer', completed: 3, failed: 0 });
    expect(s.agents.get('api-designer-2')).toMatchObject({ kind: 'sidecar', name: 'api-designer', completed: 0, failed: 1 });
  });

  it('takes the cards of GET /api/sidecar/agents (after a restart) with their counts and status', () => {
    const s = new DashboardState();
    const row = { agent_id: 'python-specialist-x1', agent_type: 'python-specialist', issues: ['I-9'], task: 'refunds', status: 'completed', created_at: 1, last_seen: 1_800_000_000_000, expires_at: 2, completed: 2, failed: 1 };
    s.upsertAgent(row, row.last_seen);
    s.upsertAgent({ ...row, agent_id: 'python-specialist-x2', status: 'ended', completed: 0, failed: 0 }, row.last_seen);
    expect(s.agents.get('python-specialist-x1')).toMatchObject({ kind: 'sidecar', name: 'python-specialist', status: 'Ready', completed: 2, failed: 1, lastSeen: 1_800_000_000_000 });
    expect(s.agents.get('python-specialist-x2')).toMatchObject({ kind: 'sidecar', status: 'Ended' });
  });
});

describe('DashboardState pipeline agent cards: when each was last seen', () => {
  it('is when it last worked: never for an agent not run yet, and a later snapshot does not move a live time back', () => {
    const s = new DashboardState();
    const card = { agent: 'analyst', name: 'requirements-analyst', stage: 'analysis', status: 'Ready', current_task: null, tasks_done: 0, last_active_at: null };
    // GET /api/agents on a fresh daemon: the loader passes last_active_at (none: 0)
    s.upsertAgent(card, 0);
    expect(s.agents.get('analyst')?.lastSeen).toBe(0);
    s.apply({ seq: 1, type: 'agent_activity', ts: 1_800_000_000_500, data: { agent: 'analyst', name: 'requirements-analyst', stage: 'analysis', status: 'Ready', task_id: null, tasks_done: 1 } });
    expect(s.agents.get('analyst')?.lastSeen).toBe(1_800_000_000_500);
    s.upsertAgent({ ...card, tasks_done: 1, last_active_at: 1_800_000_000_400 }, 1_800_000_000_400);
    expect(s.agents.get('analyst')?.lastSeen).toBe(1_800_000_000_500);
  });
});

describe('DashboardState pipeline tasks: validation verdicts and retries', () => {
  const T0 = 1_800_000_000_000;
  const update = (seq: number, data: Record<string, unknown>) => ({ seq, type: 'task_update', ts: T0 + seq, data });
  const rejected = { passed: false, score: 42, summary: 'the tests do not cover refunds' };

  it('reads the verdict of completed/failed updates and list rows', () => {
    const s = new DashboardState();
    s.upsertTask({ id: 'task-a', requirement: 'refunds', status: 'completed', current_stage: 'integration', error: null, validation: rejected, retries: 0 }, T0);
    expect(s.tasks.get('task-a')?.validation).toEqual(rejected);
    s.apply(update(1, { event: 'completed', task_id: 'task-b', status: 'completed', stage: null, priority: 5, validation: { passed: true, score: 90, summary: 'ok' } }));
    expect(s.tasks.get('task-b')?.validation).toEqual({ passed: true, score: 90, summary: 'ok' });
    // a verdict not given yet (null) or malformed is none
    s.upsertTask({ id: 'task-c', status: 'running', validation: null }, T0);
    s.upsertTask({ id: 'task-d', status: 'running', validation: { score: 3 } }, T0);
    expect(s.tasks.get('task-c')?.validation).toBeUndefined();
    expect(s.tasks.get('task-d')?.validation).toBeUndefined();
  });

  it('a retried update clears the old error and verdict, queues the task and keeps only the stages before the one rerun', () => {
    const s = new DashboardState();
    s.apply(update(1, { event: 'created', task_id: 'task-r', status: 'queued', stage: null, priority: 5 }));
    s.apply(update(2, { event: 'stage_started', task_id: 'task-r', status: 'running', stage: 'validation', priority: 5 }));
    s.apply(update(3, { event: 'failed', task_id: 'task-r', status: 'failed', stage: 'validation', priority: 5, error: 'Validation failed: the tests do not cover refunds', validation: rejected }));
    const failed = s.tasks.get('task-r')!;
    expect(failed).toMatchObject({ status: 'failed', error: 'Validation failed: the tests do not cover refunds', validation: rejected });
    expect(canRetry(failed)).toBe(true);
    expect(taskColumn(failed)).toBe('failed');

    s.apply(update(4, { event: 'retried', task_id: 'task-r', status: 'queued', stage: null, priority: 5, detail: { from: 'implementation', retries: 1, previous_status: 'failed' } }));
    const again = s.tasks.get('task-r')!;
    expect(again.error).toBeUndefined();
    expect(again.validation).toBeUndefined();
    expect(again.stage).toBeUndefined();
    expect(taskColumn(again)).toBe('queued');
    expect(again.stages).toEqual({ enhancement: 'done', analysis: 'done', implementation: 'pending', validation: 'pending', integration: 'pending' });
    expect(canRetry(again)).toBe(false);
  });

  it('the retry answer (a task view) stands in for the update: its first pending stage is where it reruns', () => {
    const s = new DashboardState();
    s.upsertTask({ id: 'task-v', requirement: 'x', status: 'cancelled', current_stage: 'analysis', error: 'Cancelled' }, T0);
    s.upsertTask({ id: 'task-v', event: 'retried', status: 'queued', current_stage: null, error: null, validation: null, stages: [{ stage: 'enhancement', status: 'skipped' }, { stage: 'analysis', status: 'pending' }] }, T0 + 1);
    expect(s.tasks.get('task-v')).toMatchObject({ status: 'queued', stages: { enhancement: 'done', analysis: 'pending', implementation: 'pending' } });
    expect(s.tasks.get('task-v')?.error).toBeUndefined();
  });

  it('a list row with error null clears an error the page kept (the retried update was missed)', () => {
    const s = new DashboardState();
    s.upsertTask({ id: 'task-m', status: 'failed', error: 'boom', validation: rejected }, T0);
    s.upsertTask({ id: 'task-m', status: 'running', current_stage: 'implementation', error: null, validation: null }, T0 + 1);
    expect(s.tasks.get('task-m')?.error).toBeUndefined();
    expect(s.tasks.get('task-m')?.validation).toBeUndefined();
  });

  it('a task completed despite a rejection says so and may be retried; a passed, running or errored one does not', () => {
    const base: Task = { id: 't', status: 'completed', created: T0, updated: T0, stages: {}, files: [] };
    expect(validationNote({ ...base, validation: rejected })).toBe('Validation failed (score 42): the tests do not cover refunds');
    expect(validationNote({ ...base, validation: { ...rejected, summary: '' } })).toBe('Validation failed (score 42)');
    expect(canRetry({ ...base, validation: rejected })).toBe(true);
    expect(validationNote({ ...base, validation: { passed: true, score: 90, summary: 'ok' } })).toBeUndefined();
    expect(canRetry({ ...base, validation: { passed: true, score: 90, summary: 'ok' } })).toBe(false);
    expect(canRetry(base)).toBe(false);
    // a failed one shows its error instead (which already names the rejection)
    expect(validationNote({ ...base, status: 'failed', error: 'Validation failed: x', validation: rejected })).toBeUndefined();
    expect(canRetry({ ...base, status: 'running' })).toBe(false);
    expect(canRetry({ ...base, status: 'cancelled' })).toBe(true);
  });
});
