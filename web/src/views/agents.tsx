import { Absent, Badge, Section } from '../components/common';
import { ago } from '../lib/format';
import { useLive, useNow } from '../lib/hooks';
import { state } from '../lib/instance';
import type { Agent } from '../lib/model';

/** Agent cards (pipeline agents) and the Claude Code sessions and subagents seen through hooks. */
export function Agents() {
  useLive();
  const now = useNow(1000);
  const all = [...state.agents.values()];
  const pipeline = all.filter((a) => a.kind === 'pipeline').sort((a, b) => a.name.localeCompare(b.name));
  const sidecar = all.filter((a) => a.kind === 'sidecar').sort((a, b) => b.lastSeen - a.lastSeen);
  const sessions = all.filter((a) => a.kind === 'session' || a.kind === 'subagent').sort((a, b) => b.lastSeen - a.lastSeen);
  return (
    <div class="view" data-testid="view-agents">
      <Section title={`Pipeline agents (${pipeline.length})`}>
        {pipeline.length === 0 ? <Absent what="No pipeline agent has reported yet. Submit a requirement on the Pipeline view." /> : <Cards agents={pipeline} now={now} />}
      </Section>
      {sidecar.length > 0 && (
        <Section title={`Sidecar agents (${sidecar.length})`}>
          <Cards agents={sidecar} now={now} />
        </Section>
      )}
      <Section title={`Claude Code sessions and subagents (${sessions.length})`}>
        {sessions.length === 0 ? <Absent what="No Claude Code session yet — start one with `cco` and its hooks report here." /> : <Cards agents={sessions} now={now} />}
      </Section>
    </div>
  );
}

function Cards({ agents, now }: { agents: Agent[]; now: number }) {
  return (
    <div class="cards">
      {agents.map((a) => (
        <div key={a.key} class={`agent-card card status-${a.status.toLowerCase()}`} data-testid="agent-card" data-agent={a.key} data-status={a.status}>
          <div class="agent-head">
            <span class="agent-name">{a.name}</span>
            <Badge status={a.status} />
          </div>
          {(a.kind === 'session' || a.kind === 'subagent') && <div class="muted small mono">{a.kind === 'subagent' ? `subagent of ${short(a.sessionId)}` : `session ${short(a.sessionId)}`}</div>}
          {/* Two agents of one type are told apart by their id. */}
          {a.kind === 'sidecar' && a.key !== a.name && (
            <div class="muted small mono ellipsis" data-testid="agent-id" title={a.key}>
              {a.key}
            </div>
          )}
          <div class="agent-task">{a.task ? <span class="mono">{a.kind === 'pipeline' ? `task ${a.task}` : a.task}</span> : <span class="muted">idle</span>}</div>
          {a.detail && <div class="muted small ellipsis">{a.detail}</div>}
          <div class="agent-counts small">
            <span data-testid="agent-completed">{a.completed}</span> {a.kind === 'pipeline' ? 'tasks done' : a.kind === 'sidecar' ? 'results' : 'tools run'}
            {a.failed > 0 && <span class="bad"> · {a.failed} failed</span>}
            <span class="muted"> · {ago(a.lastSeen, now)}</span>
          </div>
        </div>
      ))}
    </div>
  );
}

function short(id: string | undefined): string {
  return id ? (id.length > 12 ? `${id.slice(0, 8)}…` : id) : '?';
}
