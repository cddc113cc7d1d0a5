import { Absent, Badge, Section, Stat } from '../components/common';
import { getIf } from '../lib/api';
import { isObj, num } from '../lib/fields';
import { fmtNum, fmtPct, fmtUsd, ago } from '../lib/format';
import { useLive, useNow, usePoll } from '../lib/hooks';
import { state } from '../lib/instance';
import { taskColumn } from '../lib/state';
import { costToday, midnight, requestsPerSecond } from './gateway-data';

interface Status {
  version?: string;
  uptime_seconds?: number;
  memory_usage_mb?: number;
  store?: string;
  sealed_files?: { status: string };
  parts?: Record<string, { status: string; [k: string]: unknown }>;
}

/** Health of every part and the headline numbers. */
export function Overview() {
  useLive();
  const now = useNow(1000);
  const health = usePoll(() => getIf<Status>('/api/status'), 5000);
  const cache = usePoll(() => getIf<unknown>('/api/cache/stats'), 5000);
  const project = usePoll(() => getIf<unknown>(`/api/project/stats?since=${midnight()}`), 10000);
  const agents = [...state.agents.values()];
  const working = agents.filter((a) => a.status === 'Working').length;
  const tasks = [...state.tasks.values()];
  const running = tasks.filter((t) => !['completed', 'failed', 'queued'].includes(taskColumn(t))).length;
  const rps = requestsPerSecond(state.requests, now);
  const cost = costToday(project.data, state.requests, now);
  const hitRate = num(cache.data, 'hitRate', 'hit_rate', 'stats.hitRate');
  const checks: Record<string, { status: string; [k: string]: unknown }> = { ...(health.data?.parts ?? {}) };
  if (health.data?.sealed_files) checks['sealed files'] = health.data.sealed_files;
  const latest = lastEvents(8);
  const overall = Object.values(checks).some((c) => c.status === 'down') ? 'down' : Object.values(checks).some((c) => c.status === 'degraded') ? 'degraded' : 'ok';
  return (
    <div class="view" data-testid="view-overview">
      <div class="stats">
        <Stat label="Requests / s" value={fmtNum(rps, 2)} sub="last 10 s" testId="stat-rps" />
        <Stat label="Cost today" value={fmtUsd(cost.value)} sub={cost.source} testId="stat-cost" />
        <Stat label="Cache hit rate" value={fmtPct(hitRate)} sub={cache.data ? `${fmtNum(num(cache.data, 'hits'))} hits · ${fmtNum(num(cache.data, 'misses'))} misses` : 'gateway cache not available'} testId="stat-cache" />
        <Stat label="Active agents" value={String(working)} sub={`${agents.length} known`} testId="stat-agents" tone={working ? 'ok' : undefined} />
        <Stat label="Tasks in progress" value={String(running)} sub={`${tasks.length} seen`} testId="stat-tasks" />
        <Stat label="Daemon" value={health.data ? <Badge status={overall} /> : '—'} sub={health.data ? `v${health.data.version ?? '?'} · ${health.data.store ?? ''} · up ${fmtNum(health.data.uptime_seconds)} s · ${fmtNum(health.data.memory_usage_mb)} MB` : 'not reachable'} testId="stat-daemon" />
      </div>
      <Section title="Parts">
        {Object.keys(checks).length === 0 ? (
          <Absent what="Health not loaded yet." />
        ) : (
          <table class="table" data-testid="health-table">
            <thead>
              <tr>
                <th>part</th>
                <th>status</th>
                <th>details</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(checks).map(([name, c]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td>
                    <Badge status={String(c.status)} />
                  </td>
                  <td class="muted mono small">{details(c)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Latest activity">
        <ul class="activity" data-testid="latest-activity">
          {latest.length === 0 && <li class="muted">{state.events.length === 0 ? 'Nothing yet — activity appears here live.' : 'Only log lines so far — they are on the Logs view.'}</li>}
          {latest.map((m) => (
            <li key={m.seq}>
              <span class="muted">{ago(m.ts, now)}</span> <span class={`type type-${m.type}`}>{m.type}</span> <span class="mono small">{summary(m.data)}</span>
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}

function lastEvents(n: number) {
  const out = [];
  for (let i = state.events.length - 1; i >= 0 && out.length < n; i--) {
    const m = state.events.at(i);
    if (m && m.type !== 'log') out.push(m);
  }
  return out;
}

function details(c: Record<string, unknown>): string {
  return Object.entries(c)
    .filter(([k, v]) => k !== 'status' && (typeof v !== 'object' || v === null))
    .slice(0, 5)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' · ');
}

/** A one-line summary of a message's data. */
export function summary(d: unknown): string {
  if (!isObj(d)) return String(d ?? '');
  const s = JSON.stringify(d);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}
