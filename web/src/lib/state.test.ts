import { describe, expect, it } from 'vitest';
import { DashboardState } from './state';

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
