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

  observe(event: string, body: HookFields): SessionView | undefined {
    if (!body.session_id) return undefined;
    const key = body.agent_id ? `${body.session_id}/${body.agent_id}` : body.session_id;
    const v: SessionView = this.sessions.get(key) ?? {
      session_id: body.session_id,
      ...(body.agent_id ? { agent_id: body.agent_id } : {}),
      ...(body.agent_type ? { agent_type: body.agent_type } : {}),
      status: 'Ready',
      tools_run: 0,
      subagents: 0,
      last_event: event,
      last_seen: Date.now(),
      ...(body.cwd ? { cwd: body.cwd } : {}),
    };
    v.last_event = event;
    v.last_seen = Date.now();
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
        v.subagents++;
        break;
      case 'Stop':
      case 'SubagentStop':
        v.status = 'Ready';
        delete v.current_tool;
        break;
      case 'SessionEnd':
        v.status = 'Ended';
        break;
    }
    this.sessions.set(key, v);
    if (this.sessions.size > this.max) {
      const oldest = [...this.sessions.entries()].sort((a, b) => a[1].last_seen - b[1].last_seen)[0];
      if (oldest) this.sessions.delete(oldest[0]);
    }
    return { ...v };
  }

  list(): SessionView[] {
    return [...this.sessions.values()].sort((a, b) => b.last_seen - a.last_seen);
  }
}
