import { describe, expect, it } from 'vitest';
import { SessionTracker } from './sessions.js';

describe('SessionTracker', () => {
  const byKey = (t: SessionTracker) => new Map(t.list().map((v) => [v.agent_id ? `${v.session_id}/${v.agent_id}` : v.session_id, v]));

  it('shows a running subagent Working and its parent Working with one subagent, until the Task returns', () => {
    const t = new SessionTracker();
    t.observe('UserPromptSubmit', { session_id: 's1' });
    t.observe('PreToolUse', { session_id: 's1', tool_name: 'Task' });
    const started = t.observe('SubagentStart', { session_id: 's1', agent_id: 'ag-1', agent_type: 'api-designer' });
    expect(byKey(t).get('s1/ag-1')).toMatchObject({ agent_type: 'api-designer', status: 'Working', subagents: 0 });
    expect(byKey(t).get('s1')).toMatchObject({ status: 'Working', current_tool: 'Task', subagents: 1 });
    // Both changed views are returned, the subagent's first (each becomes an agent_activity message).
    expect(started.map((v) => v.agent_id ?? 'parent')).toEqual(['ag-1', 'parent']);

    t.observe('SubagentStop', { session_id: 's1', agent_id: 'ag-1', agent_type: 'api-designer' });
    expect(byKey(t).get('s1/ag-1')?.status).toBe('Ready');
    expect(byKey(t).get('s1')).toMatchObject({ status: 'Working', current_tool: 'Task' });
    t.observe('PostToolUse', { session_id: 's1', tool_name: 'Task' });
    expect(byKey(t).get('s1')?.status).toBe('Working');
    t.observe('Stop', { session_id: 's1' });
    expect(byKey(t).get('s1')?.status).toBe('Ready');
  });

  it('keeps the parent Working on a SubagentStop without agent_id (older Claude Code)', () => {
    const t = new SessionTracker();
    t.observe('PreToolUse', { session_id: 's2', tool_name: 'Task' });
    const stopped = t.observe('SubagentStop', { session_id: 's2' });
    expect(byKey(t).get('s2')).toMatchObject({ status: 'Working', current_tool: 'Task', last_event: 'SubagentStop' });
    expect(stopped).toHaveLength(1);
  });

  it('counts the subagents of a session first seen through one of them', () => {
    const t = new SessionTracker();
    t.observe('SubagentStart', { session_id: 's3', agent_id: 'a', agent_type: 'x' });
    t.observe('SubagentStart', { session_id: 's3', agent_id: 'b', agent_type: 'x' });
    expect(byKey(t).get('s3')).toMatchObject({ status: 'Working', subagents: 2 });
  });

  it('stays bounded', () => {
    const t = new SessionTracker(3);
    for (let i = 0; i < 10; i++) t.observe('SubagentStart', { session_id: `s${i}`, agent_id: 'a' });
    expect(t.list()).toHaveLength(3);
  });
});
