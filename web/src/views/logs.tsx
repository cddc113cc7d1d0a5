import { useMemo, useState } from 'preact/hooks';
import { VirtualList } from '../components/virtual-list';
import { fmtTime } from '../lib/format';
import { useLive } from '../lib/hooks';
import { state } from '../lib/instance';
import { LEVELS, levelRank } from '../lib/model';

/** The live console: the daemon's and the agents' log lines, with a level filter, following the tail. */
export function Logs() {
  const version = useLive();
  const [min, setMin] = useState('info');
  const [query, setQuery] = useState('');
  const list = useMemo(() => {
    const q = query.trim().toLowerCase();
    const r = levelRank(min);
    if (!q && r <= 0) return undefined;
    return state.logs.filter((l) => levelRank(l.level) >= r && (!q || l.msg.toLowerCase().includes(q) || (l.source ?? '').toLowerCase().includes(q)));
  }, [version, min, query]);
  const count = list ? list.length : state.logs.length;
  const get = (i: number) => (list ? list[i] : state.logs.at(i));
  return (
    <div class="view fill" data-testid="view-logs">
      <div class="toolbar">
        <label>
          level ≥{' '}
          <select value={min} onChange={(e) => setMin((e.target as HTMLSelectElement).value)} data-testid="log-level">
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <input class="search" placeholder="filter text…" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} data-testid="logs-search" />
        <span class="muted small" data-testid="logs-count">
          {count} lines
        </span>
      </div>
      <VirtualList
        count={count}
        rowHeight={20}
        follow
        testId="log-list"
        className="console grow"
        row={(i) => {
          const l = get(i);
          if (!l) return null;
          return (
            <div class={`log-row lvl-${l.level}`}>
              <span class="muted">{fmtTime(l.ts)}</span>
              <span class="lvl">{l.level}</span>
              {l.source && <span class="src">[{l.source}]</span>}
              <span class="msg">{l.msg}</span>
            </div>
          );
        }}
      />
    </div>
  );
}
