import { useEffect, useState } from 'preact/hooks';
import { useLive, useNow } from './lib/hooks';
import { live, state } from './lib/instance';
import { Agents } from './views/agents';
import { Cache } from './views/cache';
import { Events } from './views/events';
import { Gateway } from './views/gateway';
import { Logs } from './views/logs';
import { Overview } from './views/overview';
import { Pipeline } from './views/pipeline';
import { TerminalView } from './views/terminal';

const VIEWS = {
  overview: { title: 'Overview', render: () => <Overview /> },
  agents: { title: 'Agents', render: () => <Agents /> },
  pipeline: { title: 'Pipeline', render: () => <Pipeline /> },
  gateway: { title: 'Gateway', render: () => <Gateway /> },
  cache: { title: 'Cache', render: () => <Cache /> },
  events: { title: 'Events', render: () => <Events /> },
  logs: { title: 'Logs', render: () => <Logs /> },
  terminal: { title: 'Terminal', render: () => <TerminalView /> },
} as const;
type ViewName = keyof typeof VIEWS;

function currentView(): ViewName {
  const h = location.hash.replace(/^#\/?/, '');
  // own keys only: `#/constructor` named an inherited property and broke the page
  return Object.hasOwn(VIEWS, h) ? (h as ViewName) : 'overview';
}

export function App() {
  const [view, setView] = useState<ViewName>(currentView());
  // Once opened, the terminal stays mounted (hidden on other views): unmounting it closed its
  // socket, and the daemon then ended the shell and whatever it was running.
  const [terminalOpened, setTerminalOpened] = useState(view === 'terminal');
  useEffect(() => {
    const on = (): void => {
      const next = currentView();
      if (next === 'terminal') setTerminalOpened(true);
      setView(next);
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return (
    <div class="app">
      <header class="top">
        <div class="brand">
          CCO <span class="muted">Claude Code Orchestra</span>
        </div>
        <nav>
          {(Object.keys(VIEWS) as ViewName[]).map((v) => (
            <a key={v} href={`#/${v}`} class={v === view ? 'active' : ''} data-testid={`nav-${v}`}>
              {VIEWS[v].title}
            </a>
          ))}
        </nav>
        <ConnPill />
      </header>
      <Banner />
      <main>
        {view !== 'terminal' && VIEWS[view].render()}
        {terminalOpened && (
          <div style={{ display: view === 'terminal' ? undefined : 'none' }} data-testid="terminal-view">
            <TerminalView />
          </div>
        )}
      </main>
    </div>
  );
}

function ConnPill() {
  useLive();
  const label = { open: 'Live', connecting: 'Connecting…', disconnected: 'Disconnected', unauthorized: 'Locked' }[state.conn];
  return (
    <span class={`pill conn-${state.conn}`} data-testid="conn-state" data-state={state.conn}>
      {label}
    </span>
  );
}

/** The "Disconnected" banner with the reconnect countdown, and the lock notice. */
function Banner() {
  useLive();
  const now = useNow(500);
  if (state.conn === 'unauthorized') {
    return (
      <div class="banner warn" data-testid="banner-unauthorized">
        This dashboard needs the daemon's access token. Run <code>cco dashboard</code> to open it signed in.
      </div>
    );
  }
  if (state.conn !== 'disconnected') return null;
  const wait = Math.max(0, Math.ceil((live.nextAttemptAt - now) / 1000));
  return (
    <div class="banner bad" data-testid="banner-disconnected">
      <strong>Disconnected</strong> from the CCO daemon ({state.connDetail}). {wait > 0 ? `Reconnecting in ${wait} s…` : 'Reconnecting…'}{' '}
      <button onClick={() => live.retryNow()}>Retry now</button>
      <span class="muted small"> If it stays down: <code>cco daemon status</code>, <code>cco daemon start</code>.</span>
    </div>
  );
}
