/**
 * Live view of Claude Code sessions and their subagents, built from hook events: what each is
 * doing now (the tool it runs), how many tools it ran, when it was last seen.
 */
export interface SessionView {
  session_id: string;
  agent_id?: string;
  agent_type?: string;
  status: 'Working' | 'Ready' | 'Ended';
  current_tool?: string;
  tools_run: number;
  subagents: number;
  last_event: string;
  last_seen: number;
  cwd?: string;
}

interface HookFields {
  session_id?: string;
  tool_name?: string;
  agent_id?: string;
  agent_type?: string;
  cwd?: string;
}

export class SessionTracker {
  private readonly sessions = new Map<string, SessionView>();

  constructor(private readonly max = 500) {}

  /**
   * Applies one hook event and returns every view it changed (the one it names first): a
   * subagent's start and stop also change its parent session's view.
   */
  observe(event: string, body: HookFields, at = Date.now()): SessionView[] {
    if (!body.session_id) return [];
    const v = this.view(body.session_id, body, event, at);
    const changed = [v];
    switch (event) {
      case 'PreToolUse':
        v.status = 'Working';
        if (body.tool_name) v.current_tool = body.tool_name;
        break;
      case 'PostToolUse':
        v.tools_run++;
        delete v.current_tool;
        break;
      case 'UserPromptSubmit':
      case 'SessionStart':
        v.status = event === 'UserPromptSubmit' ? 'Working' : 'Ready';
        break;
      case 'SubagentStart':
        // The event is the subagent's (its agent_id); the parent session runs it through its Task tool.
        v.status = 'Working';
        if (body.agent_id) changed.push(this.parentOf(body.session_id, event, at, (p) => p.subagents++));
        break;
      case 'SubagentStop':
        // Without agent_id (older Claude Code) the event names only the session, which is still
        // inside its Task call: it stays Working until that tool's PostToolUse or its own Stop.
        if (!body.agent_id) break;
        v.status = 'Ready';
        delete v.current_tool;
        changed.push(this.parentOf(body.session_id, event, at));
        break;
      case 'Stop':
        v.status = 'Ready';
        delete v.current_tool;
        break;
      case 'SessionEnd':
        v.status = 'Ended';
        break;
    }
    for (const c of changed) this.sessions.set(c.agent_id ? `${c.session_id}/${c.agent_id}` : c.session_id, c);
    this.evict();
    return changed.map((c) => ({ ...c }));
  }

  list(): SessionView[] {
    return [...this.sessions.values()].sort((a, b) => b.last_seen - a.last_seen);
  }

  /** The view the event names (a subagent's when it carries agent_id), created on first sight. */
  private view(sessionId: string, body: HookFields, event: string, at: number): SessionView {
    const key = body.agent_id ? `${sessionId}/${body.agent_id}` : sessionId;
    const v: SessionView = this.sessions.get(key) ?? {
      session_id: sessionId,
      ...(body.agent_id ? { agent_id: body.agent_id } : {}),
      ...(body.agent_type ? { agent_type: body.agent_type } : {}),
      status: 'Ready',
      tools_run: 0,
      subagents: 0,
      last_event: event,
      last_seen: at,
      ...(body.cwd ? { cwd: body.cwd } : {}),
    };
    v.last_event = event;
    v.last_seen = at;
    return v;
  }

  /** The parent session of a subagent event, touched (last seen) and changed by `edit`. */
  private parentOf(sessionId: string, event: string, at: number, edit?: (parent: SessionView) => void): SessionView {
    const p = this.view(sessionId, {}, event, at);
    // A parent first seen through its subagent is running that subagent's Task.
    if (!this.sessions.has(sessionId)) p.status = 'Working';
    edit?.(p);
    return p;
  }

  private evict(): void {
    while (this.sessions.size > this.max) {
      const oldest = [...this.sessions.entries()].sort((a, b) => a[1].last_seen - b[1].last_seen)[0];
      if (!oldest) return;
      this.sessions.delete(oldest[0]);
    }
  }
}
