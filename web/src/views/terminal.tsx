import { useEffect, useRef, useState } from 'preact/hooks';
import { Absent } from '../components/common';
import { getJson } from '../lib/api';

interface Session {
  authenticated: boolean;
  terminal?: { enabled: boolean; reason?: string };
}

/** A shell on the daemon's machine in xterm.js over `/terminal` (node-pty behind it). */
export function TerminalView() {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('checking…');
  const [refusal, setRefusal] = useState<string | undefined>(undefined);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let disposed = false;
    let cleanup = (): void => undefined;
    void (async () => {
      const s = await getJson<Session>('/api/dashboard/session');
      if (disposed) return;
      if (!s) return setStatus('the daemon does not answer');
      if (!s.authenticated) return setRefusal('Open the dashboard with `cco dashboard` first (the terminal needs the access token).');
      if (!s.terminal?.enabled) return setRefusal(s.terminal?.reason ?? 'The web terminal is off.');
      // xterm.js is only loaded when someone opens the terminal.
      const [{ Terminal }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit'), import('@xterm/xterm/css/xterm.css')]);
      if (disposed || !box.current) return;
      const term = new Terminal({ cursorBlink: true, fontSize: 13, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', theme: { background: '#0b0f14' } });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(box.current);
      fit.fit();
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(`${proto}//${location.host}/terminal`);
      setStatus('connecting…');
      const sendResize = (): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
      };
      ws.onopen = () => {
        setStatus('connected');
        sendResize();
        term.focus();
      };
      ws.onmessage = (ev) => {
        try {
          const f = JSON.parse(String(ev.data)) as { type: string; data?: string; code?: number; message?: string };
          if (f.type === 'output' && f.data) term.write(f.data);
          else if (f.type === 'exit') setStatus(`shell exited (${f.code ?? '?'})`);
          else if (f.type === 'error') term.write(`\r\n\x1b[31m${f.message ?? 'error'}\x1b[0m\r\n`);
        } catch {
          // not JSON: ignore
        }
      };
      ws.onclose = (ev) => {
        if (!disposed) setStatus(ev.code === 1000 ? 'closed' : `disconnected${ev.reason ? `: ${ev.reason}` : ''}`);
      };
      const input = term.onData((d) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'input', data: d }));
      });
      const ro = new ResizeObserver(() => {
        // hidden while another view shows (it stays mounted): a fit to no size would shrink the shell to 2 columns
        if (!box.current?.clientWidth || !box.current.clientHeight) return;
        fit.fit();
        sendResize();
      });
      ro.observe(box.current);
      cleanup = () => {
        ro.disconnect();
        input.dispose();
        ws.close();
        term.dispose();
      };
    })();
    return () => {
      disposed = true;
      cleanup();
    };
  }, [generation]);

  if (refusal) {
    return (
      <div class="view" data-testid="view-terminal">
        <Absent what={refusal} />
      </div>
    );
  }
  return (
    <div class="view fill" data-testid="view-terminal">
      <div class="toolbar">
        <span class="muted small" data-testid="terminal-status">
          {status}
        </span>
        {status !== 'connected' && status !== 'connecting…' && status !== 'checking…' && <button onClick={() => setGeneration((g) => g + 1)}>Reconnect</button>}
      </div>
      <div ref={box} class="terminal-box grow" data-testid="terminal" />
    </div>
  );
}
