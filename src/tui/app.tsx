import { Box, Text, useApp, useInput, useStdout } from 'ink';
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
export function TuiApp({ state, client, url, rows: initialRows }: { state: TuiState; client: TuiClient; url: string; rows: number }) {
  const { exit } = useApp();
  const [pane, setPane] = useState<Pane>('overview');
  const [, redraw] = useReducer((x: number) => x + 1, 0);
  const size = useTerminalSize(initialRows);
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
  // Each label stays with its value: a narrow terminal moves whole items to the next line.
  const stats: [label: string, value: string, rest: string][] = [
    ['req/s', state.rps(now).toFixed(2), ''],
    ['cost today', `$${Math.max(client.snapshot.costToday ?? 0, state.costToday(now)).toFixed(4)}`, ''],
    ['cache', cache?.hitRate !== undefined ? `${(cache.hitRate * 100).toFixed(1)}%` : '—', cache ? ` (${cache.hits ?? 0} hits, ${cache.entries ?? 0} entries)` : ''],
    ['agents', String(working), `/${agents.length} working`],
    ['requests', String(state.requests.length), ''],
  ];
  const paneLabels = PANES.map((p, i) => ` ${i + 1} ${p} `);
  const HINT = ' Tab next · q quit';
  // The whole frame stays shorter than the terminal: once it is as tall, ink clears the screen
  // and its scrollback on every redraw (4 times a second). The header's wrapped rows are counted.
  const header = 1 + wrappedRows(stats.map(([l, v, r]) => l.length + 1 + v.length + r.length), 3, size.columns) + wrappedRows([...paneLabels.map((l) => l.length), HINT.length], 1, size.columns);
  const body = Math.max(3, size.rows - header - 1);
  const connColor = client.conn === 'open' ? 'green' : client.conn === 'connecting' ? 'yellow' : 'red';
  const connLabel = { open: 'Live', connecting: 'Connecting…', disconnected: `Disconnected (${client.detail}) — reconnecting`, unauthorized: `Locked: ${client.detail}` }[client.conn];
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1} overflow="hidden">
        <Text bold wrap="truncate-end">
          CCO · {url}
        </Text>
        <Box flexShrink={0} marginLeft={1}>
          <Text color={connColor} wrap="truncate-end">
            ● {connLabel}
          </Text>
        </Box>
      </Box>
      <Box columnGap={3} flexWrap="wrap">
        {stats.map(([label, value, rest]) => (
          <Stat key={label}>
            {label} <Text bold>{value}</Text>
            {rest}
          </Stat>
        ))}
      </Box>
      <Box columnGap={1} flexWrap="wrap">
        {PANES.map((p, i) => (
          <Box key={p} flexShrink={0}>
            <Text inverse={p === pane}>{paneLabels[i]}</Text>
          </Box>
        ))}
        <Box flexShrink={0}>
          <Text dimColor>{HINT}</Text>
        </Box>
      </Box>
      <Box flexDirection="column" height={body} overflow="hidden">
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
              <Text key={t.id} wrap="truncate">
                <Text color={statusColor(t.status)}>{t.status.padEnd(10)}</Text> {(t.stage ?? '').padEnd(15)} {t.id} <Text dimColor>{cut(t.requirement ?? '', 60)}</Text>
              </Text>
            ))
          ))}
        {pane === 'requests' &&
          state.requests
            .slice(-body)
            .reverse()
            .map((r, i) => (
              <Text key={i} wrap="truncate">
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

/** The terminal's rows and columns, following its resizes. */
function useTerminalSize(initialRows: number): { rows: number; columns: number } {
  const { stdout } = useStdout();
  const read = () => ({ rows: stdout.rows || initialRows, columns: stdout.columns || 80 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return size;
}

/** The rows items of these widths take, laid out left to right in `columns` with `gap` between them (flexWrap). */
export function wrappedRows(widths: readonly number[], gap: number, columns: number): number {
  let rows = 1;
  let used = 0;
  for (const w of widths) {
    if (used > 0 && used + gap + w > columns) {
      rows++;
      used = 0;
    }
    // an item wider than the terminal: its text wraps inside it
    if (w > columns) {
      rows += Math.ceil(w / columns) - 1;
      used = w % columns || columns;
    } else used += (used > 0 ? gap : 0) + w;
  }
  return rows;
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
    <Text wrap="truncate">
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
