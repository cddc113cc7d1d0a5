import { useMemo, useState } from 'preact/hooks';
import { VirtualList } from '../components/virtual-list';
import { fmtTime } from '../lib/format';
import { useLive } from '../lib/hooks';
import { state } from '../lib/instance';
import type { HubMessage } from '../lib/model';

const text = new WeakMap<HubMessage, string>();
/** The searchable text of a message, computed once. */
function textOf(m: HubMessage): string {
  let t = text.get(m);
  if (t === undefined) {
    t = `${m.type} ${JSON.stringify(m.data)}`.toLowerCase();
    text.set(m, t);
  }
  return t;
}

/** Every hub message, newest first, filterable by type and text; 10,000 kept, only visible rows drawn. */
export function Events() {
  const version = useLive();
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [query, setQuery] = useState('');
  // Paused: the events as they were when Pause was pressed; the ring keeps filling underneath.
  const [frozen, setFrozen] = useState<HubMessage[] | undefined>(undefined);
  const [open, setOpen] = useState<HubMessage | undefined>(undefined);
  const list = useMemo(() => {
    const q = query.trim().toLowerCase();
    const unfiltered = !q && hidden.size === 0;
    const keep = (m: HubMessage): boolean => !hidden.has(m.type) && (!q || textOf(m).includes(q));
    if (frozen) return unfiltered ? frozen : frozen.filter(keep);
    return unfiltered ? undefined : state.events.filter(keep); // live, no filter: index the ring directly
  }, [frozen ?? version, hidden, query]);
  const count = list ? list.length : state.events.length;
  const get = (i: number): HubMessage | undefined => (list ? list[list.length - 1 - i] : state.events.at(state.events.length - 1 - i));
  const toggle = (t: string): void => {
    const next = new Set(hidden);
    if (next.has(t)) next.delete(t);
    else next.add(t);
    setHidden(next);
  };
  return (
    <div class="view fill" data-testid="view-events">
      <div class="toolbar">
        {[...state.typeCounts.entries()]
          .sort()
          .map(([t, n]) => (
            <label key={t} class={`chip ${hidden.has(t) ? 'off' : ''}`}>
              <input type="checkbox" checked={!hidden.has(t)} onChange={() => toggle(t)} data-testid={`filter-${t}`} /> {t} <span class="muted">{n}</span>
            </label>
          ))}
        <input class="search" placeholder="filter text…" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} data-testid="events-search" />
        <button onClick={() => setFrozen(frozen ? undefined : state.events.toArray())} data-testid="events-pause">
          {frozen ? 'Resume' : 'Pause'}
        </button>
        <span class="muted small" data-testid="events-count">
          {count} shown · {state.totalMessages} received
        </span>
      </div>
      <div class="split fill">
        <div class="split-main fill">
          <VirtualList
            count={count}
            rowHeight={24}
            testId="event-list"
            className="grow"
            row={(i) => {
              const m = get(i);
              if (!m) return null;
              return (
                <div class={`event-row clickable ${open === m ? 'picked' : ''}`} onClick={() => setOpen(m)}>
                  <span class="muted">{fmtTime(m.ts)}</span>
                  <span class={`type type-${m.type}`}>{m.type}</span>
                  <span class="mono small ellipsis">{JSON.stringify(m.data)}</span>
                </div>
              );
            }}
          />
        </div>
        <div class="split-side card">
          <h3>Event</h3>
          {open ? <pre class="json">{JSON.stringify(open, null, 2)}</pre> : <p class="muted">Click an event to see it whole.</p>}
        </div>
      </div>
    </div>
  );
}
