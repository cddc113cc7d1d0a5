import { getIf } from './api';
import { arr, isObj } from './fields';
import type { DashboardState } from './state';
import type { LiveConnection } from './live';

/**
 * Snapshots that complete the live stream: agents, tasks and Claude Code sessions known
 * before the page opened (or lost while it was disconnected). Loaded at start, after every
 * reconnection, and now and then.
 */
export async function loadSnapshots(state: DashboardState): Promise<void> {
  const now = Date.now();
  const [sessions, agents, tasks, sidecarAgents] = await Promise.all([getIf<unknown>('/api/sessions'), getIf<unknown>('/api/agents'), getIf<unknown>('/api/tasks?limit=200'), getIf<unknown>('/api/sidecar/agents?hours=24')]);
  for (const s of arr(sessions, 'live') ?? []) state.upsertAgent(s, now);
  const agentsField = isObj(agents) ? agents.agents : agents;
  // `/api/agents` answers `{agents: {id: card}}`; accept a plain list too.
  const agentList = Array.isArray(agentsField) ? agentsField : isObj(agentsField) ? Object.values(agentsField) : [];
  // seen when it last worked (never, for an agent that has not run yet), not when the list was read
  for (const a of agentList) if (isObj(a)) state.upsertAgent(a, typeof a.last_active_at === 'number' ? a.last_active_at : 0);
  // the sidecar's agents of the last day, with their result counts (after a daemon restart the
  // live messages that made their cards are gone)
  for (const a of arr(sidecarAgents, 'agents') ?? []) if (isObj(a)) state.upsertAgent(a, typeof a.last_seen === 'number' ? a.last_seen : now);
  const taskList = arr(tasks, 'tasks', 'items') ?? (Array.isArray(tasks) ? tasks : []);
  for (const t of taskList) if (isObj(t)) state.upsertTask(t, now);
  state.changed();
}

export function startSnapshots(state: DashboardState, live: LiveConnection): void {
  // Loads once the session says which routes exist, and again after every reconnection.
  live.onReconnect(() => void loadSnapshots(state));
  let last = Date.now();
  setInterval(() => {
    if (state.conn !== 'open') return;
    // Every 15 s, or within a second when an update named a task the page does not know yet.
    if (Date.now() - last > 15_000 || state.incomplete.size > 0) {
      last = Date.now();
      state.incomplete.clear();
      void loadSnapshots(state);
    }
  }, 1000);
}
