import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeProvider } from '../../src/fake-provider/server.js';
import { post } from './browser.js';
import { BUNDLED_CLI, CLI, ensureBuilt } from './build.js';
import { startDaemonProcess } from './daemon-process.js';
import type { DaemonProcess } from './daemon-process.js';

// A tmux server of our own (-L), so nobody else's sessions are touched.
const SOCKET = `cco-tui-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (session = 'tui'): string => tmux('capture-pane', '-p', '-t', session);
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function until(pred: (s: string) => boolean, ms = 15_000, session = 'tui'): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen(session);
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the TUI never showed what was expected; last screen:\n${s}`);
}

describe('cco tui in tmux against a real daemon', () => {
  let d: DaemonProcess;
  let fake: FakeProvider;
  let env = '';
  /** Runs `cco tui` from `cli` in a new tmux window of `cols`x40, reporting its exit code on screen. */
  const startTui = (session: string, cli: string, cols = 150): void => {
    tmux('new-session', '-d', '-s', session, '-x', String(cols), '-y', '40', `env ${env} TERM=xterm-256color ${shq(process.execPath)} ${shq(cli)} tui --port ${d.port}; echo TUI-EXITED=$?; sleep 30`);
  };

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFakeProvider();
    d = await startDaemonProcess({ env: { CCO_ANTHROPIC_BASE_URL: fake.url } });
    env = ['CCO_HOME', 'CCO_CONFIG_DIR', 'CCO_TMPDIR', 'CCO_RUNTIME_DIR', 'HOME'].map((k) => `${k}=${shq(d.env[k] ?? '')}`).join(' ');
    startTui('tui', CLI);
  }, 240_000);
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await d?.cleanup();
    await fake?.close();
  });

  it('connects with the token file and shows live values changing as requests flow; q quits', async () => {
    const first = await until((s) => s.includes('● Live'));
    expect(first).toContain(`CCO · http://127.0.0.1:${d.port}`);
    expect(first).toMatch(/requests 0\b/);
    expect(first).toContain('cost today $0.0000');
    // Requests through the gateway (fake upstream) and a Claude Code hook event.
    for (let i = 0; i < 5; i++) {
      const r = await post(`${d.url}/v1/messages`, { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `hello ${i}` }] });
      expect(r.status).toBe(200);
    }
    await post(`${d.url}/api/hooks/PreToolUse`, { session_id: 'tui-session', tool_name: 'Grep' });
    const after = await until((s) => /requests 5\b/.test(s) && s.includes('Grep') && !s.includes('cost today $0.0000'));
    expect(after).toMatch(/req\/s 0\.[1-9]\d/);
    expect(after).not.toContain('cost today $0.0000');
    expect(after).toMatch(/Working\s+Claude Code/);
    // The requests pane lists them; the cache saw misses.
    tmux('send-keys', '-t', 'tui', '4');
    const reqs = await until((s) => (s.match(/claude-haiku-4-5/g) ?? []).length >= 5);
    expect(reqs).toContain('200');
    tmux('send-keys', '-t', 'tui', 'q');
    await until((s) => s.includes('TUI-EXITED=0'), 5000);
  });

  it('follows a resize: the frame stays shorter than the terminal (no clearing of the screen and its scrollback at every redraw)', async () => {
    startTui('resized', CLI, 100);
    await until((s) => s.includes('● Live'), 15_000, 'resized');
    // smaller, and narrow enough for the header to wrap
    tmux('resize-window', '-t', 'resized', '-x', '60', '-y', '20');
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 6; i++) {
      const lines = screen('resized').split('\n');
      // was: the rows read once at start (40): a 40-row frame in 20 rows, redrawn from a cleared screen 4 times a second, its top scrolled away
      expect(lines[0]).toContain('CCO · http://127.0.0.1');
      await new Promise((r) => setTimeout(r, 250));
    }
    tmux('send-keys', '-t', 'resized', 'q');
    await until((s) => s.includes('TUI-EXITED=0'), 5000, 'resized');
  });

  it('runs from the bundle that `cco` installs (dist/cco: react and ink in lazily loaded chunks), legible at 80 columns', async () => {
    // 80 columns, a common terminal: every label stays on the line of its value.
    startTui('bundled', BUNDLED_CLI, 80);
    // Once the cache stats are in, the stats line is at its longest.
    const first = await until((s) => (s.includes('● Live') && s.includes('entries')) || s.includes('TUI-EXITED'), 15_000, 'bundled');
    expect(first).toContain(`CCO · http://127.0.0.1:${d.port}`);
    expect(first).toContain('● Live');
    for (const stat of [/req\/s \d/, /cost today \$\d/, /cache \d+\.\d% \(\d+ hits, \d+ entries\)/, /agents \d+\/\d+ working/, /requests \d/]) expect(first).toMatch(stat);
    tmux('send-keys', '-t', 'bundled', 'q');
    await until((s) => s.includes('TUI-EXITED=0'), 5000, 'bundled');
  });
});
