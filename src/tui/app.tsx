import { Box, Text, useApp, useInput } from 'ink';
import { useEffect, useReducer, useState } from 'react';
import type { ReactNode } from 'react';
import type { TuiClient } from './client.js';
import type { TuiState } from './state.js';

export const PANES = ['overview', 'agents', 'tasks', 'requests', 'logs'] as const;
export type Pane = (typeof PANES)[number];

const statusColor = (s: string): string => (s === 'Working' || s === 'running' ? 'cyan' : s === 'Error' || s === 'failed' ? 'red' : s === 'completed' || s === 'Ready' ? 'green' : 'gray');
const time = (ts: number): string => new Date(ts).toLocaleTimeString([], { hour12: false });
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * `cco tui`: the dashboard's live picture in a terminal. Keys: 1-5 or Tab switch panes,
 * r reconnects now, q (or Ctrl-C) quits.
 */
export function TuiApp({ state, client, url, rows }: { state: TuiState; client: TuiClient; url: string; rows: number }) {
  const { exit } = useApp();
  const [pane, setPane] = useState<Pane>('overview');
  const [, redraw] = useReducer((x: number) => x + 1, 0);
  // Redraw at most 4 times a second however fast messages arrive, and every second for clocks.
  useEffect(() => {
    const t = setInterval(redraw, 250);
    return () => clearInterval(t);
  }, []);
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      client.stop();
      exit();
      return;
    }
    const i = Number(input);
    if (Number.isInteger(i) && i >= 1 && i <= PANES.length) setPane(PANES[i - 1] as Pane);
    if (key.tab) setPane(PANES[(PANES.indexOf(pane) + 1) % PANES.length] as Pane);
  });
  const now = Date.now();
  const agents = [...state.agents.values()];
  const working = agents.filter((a) => a.status === 'Working').length;
  const cache = client.snapshot.cache;
  const body = Math.max(5, rows - 7);
  const connColor = client.conn === 'open' ? 'green' : client.conn === 'connecting' ? 'yellow' : 'red';
  const connLabel = { open: 'Live', connecting: 'Connecting…', disconnected: `Disconnected (${client.detail}) — reconnecting`, unauthorized: `Locked: ${client.detail}` }[client.conn];
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between">
        <Text bold>CCO · {url}</Text>
        <Text color={connColor}>● {connLabel}</Text>
      </Box>
      {/* Each label stays with its value: a narrow terminal moves whole items to the next line. */}
      <Box columnGap={3} flexWrap="wrap">
        <Stat>
          req/s <Text bold>{state.rps(now).toFixed(2)}</Text>
        </Stat>
        <Stat>
          cost today <Text bold>${Math.max(client.snapshot.costToday ?? 0, state.costToday(now)).toFixed(4)}</Text>
        </Stat>
        <Stat>
          cache <Text bold>{cache?.hitRate !== undefined ? `${(cache.hitRate * 100).toFixed(1)}%` : '—'}</Text>
          {cache ? ` (${cache.hits ?? 0} hits, ${cache.entries ?? 0} entries)` : ''}
        </Stat>
        <Stat>
          agents <Text bold>{working}</Text>/{agents.length} working
        </Stat>
        <Stat>
          requests <Text bold>{state.requests.length}</Text>
        </Stat>
      </Box>
      <Box columnGap={1} flexWrap="wrap">
        {PANES.map((p, i) => (
          <Box key={p} flexShrink={0}>
            <Text inverse={p === pane}>{` ${i + 1} ${p} `}</Text>
          </Box>
        ))}
        <Box flexShrink={0}>
          <Text dimColor> Tab next · q quit</Text>
        </Box>
      </Box>
      <Box flexDirection="column" height={body}>
        {pane === 'overview' && (
          <>
            <Text underline>Agents</Text>
            {agents.length === 0 && <Text dimColor>no agent has reported yet</Text>}
            {agents.slice(-Math.floor(body / 2)).map((a) => (
              <AgentLine key={a.key} a={a} />
            ))}
            <Text underline>Last log lines</Text>
            {state.logs.slice(-Math.max(1, Math.floor(body / 2) - 2)).map((l, i) => (
              <LogLine key={i} l={l} />
            ))}
          </>
        )}
        {pane === 'agents' && agents.slice(-body).map((a) => <AgentLine key={a.key} a={a} />)}
        {pane === 'tasks' &&
          (state.tasks.size === 0 ? (
            <Text dimColor>no tasks yet — POST /api/requirements or the dashboard's Pipeline view</Text>
          ) : (
            state.recentTasks(body).map((t) => (
              <Text key={t.id}>
                <Text color={statusColor(t.status)}>{t.status.padEnd(10)}</Text> {(t.stage ?? '').padEnd(15)} {t.id} <Text dimColor>{cut(t.requirement ?? '', 60)}</Text>
              </Text>
            ))
          ))}
        {pane === 'requests' &&
          state.requests
            .slice(-body)
            .reverse()
            .map((r, i) => (
              <Text key={i}>
                {time(r.ts)} {cut(r.model, 28).padEnd(28)} {r.status.padEnd(4)} {(r.latencyMs !== undefined ? `${Math.round(r.latencyMs)} ms` : '—').padStart(8)} ${r.cost.toFixed(4)} {r.cacheHit ? <Text color="green">hit</Text> : <Text dimColor>miss</Text>}
              </Text>
            ))}
        {pane === 'logs' &&
          state.logs.slice(-body).map((l, i) => (
            <LogLine key={i} l={l} />
          ))}
      </Box>
    </Box>
  );
}

/** A label and its value, never split across lines. */
function Stat({ children }: { children: ReactNode }) {
  return (
    <Box flexShrink={0}>
      <Text>{children}</Text>
    </Box>
  );
}

function AgentLine({ a }: { a: { key: string; name: string; status: string; task?: string; done: number; kind: string } }) {
  // Sidecar agents of one type differ only by id (which starts with the type).
  const label = a.kind === 'sidecar' ? a.key : a.name;
  return (
    <Text>
      <Text color={statusColor(a.status)}>{a.status.padEnd(8)}</Text> {cut(label, 24).padEnd(24)} <Text dimColor>{a.kind.padEnd(8)}</Text> {String(a.done).padStart(4)} done {a.task ? <Text color="cyan">{cut(a.task, 40)}</Text> : ''}
    </Text>
  );
}

function LogLine({ l }: { l: { ts: number; level: string; msg: string } }) {
  const c = l.level === 'error' || l.level === 'fatal' ? 'red' : l.level === 'warn' ? 'yellow' : undefined;
  return (
    <Text wrap="truncate">
      <Text dimColor>{time(l.ts)}</Text> <Text color={c}>{l.level.padEnd(5)}</Text> {l.msg}
    </Text>
  );
}
