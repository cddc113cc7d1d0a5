import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openBrowser } from './browser.js';
import type { Browser } from './browser.js';
import { BUNDLED_CLI, ensureBuilt } from './build.js';
import { startDaemonProcess } from './daemon-process.js';
import type { DaemonProcess } from './daemon-process.js';

/** The HTTP status a WebSocket upgrade to `url` gets (101 when it opens). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

/** Opens `/terminal`, types a command the shell must compute, and resolves with everything it printed. */
function shellRoundTrip(url: string, token: string, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/terminal?token=${encodeURIComponent(token)}`);
    let out = '';
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the shell never printed cco-42-ok; got:\n${out}`));
    }, ms);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'input', data: 'echo cco-$((6*7))-ok\r' })));
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { type: string; data?: string; message?: string };
      out += f.type === 'output' ? f.data : `\n[${f.type}] ${f.message ?? ''}\n`;
      if (out.includes('cco-42-ok')) {
        clearTimeout(timer);
        ws.close();
        resolve(out);
      }
    });
    ws.on('close', () => {
      clearTimeout(timer);
      if (!out.includes('cco-42-ok')) reject(new Error(`the terminal closed before the shell answered:\n${out}`));
    });
    ws.on('error', (e) => reject(e));
  });
}

describe('web terminal (xterm.js over /terminal, node-pty)', () => {
  let d: DaemonProcess;
  let b: Browser;

  beforeAll(async () => {
    await ensureBuilt();
    d = await startDaemonProcess({ terminal: true, env: { SHELL: '/bin/bash' } });
    b = await openBrowser(d.url);
  }, 240_000);
  afterAll(async () => {
    await b?.close();
    await d?.cleanup();
  });

  it('runs a typed command and shows its output', async () => {
    await b.page.goto(`${d.url}/?token=${encodeURIComponent(d.token)}`);
    await b.page.click('[data-testid=nav-terminal]');
    await b.page.waitForFunction(() => document.querySelector('[data-testid=terminal-status]')?.textContent === 'connected');
    await b.page.click('[data-testid=terminal]');
    await b.page.keyboard.type('echo cco-$((6*7))-ok');
    await b.page.keyboard.press('Enter');
    // The shell computed it: the typed text has `$((6*7))`, only the output has 42.
    await b.page
      .waitForFunction(() => (document.querySelector('.xterm-rows')?.textContent ?? '').includes('cco-42-ok'), undefined, { timeout: 15_000 })
      .catch(async (e: unknown) => {
        await b.shot('terminal-failed');
        throw new Error(`${(e as Error).message}\nscreen: ${await b.page.textContent('.xterm-rows')}\nerrors: ${b.errors.join('\n')}`);
      });
    await b.shot('terminal-command');
    expect(b.errors).toEqual([]);
    expect(b.external).toEqual([]);
  });

  it('keeps its shell, and what runs in it, while another view is open', async () => {
    await b.page.goto(`${d.url}/?token=${encodeURIComponent(d.token)}`);
    await b.page.click('[data-testid=nav-terminal]');
    await b.page.waitForFunction(() => document.querySelector('[data-testid=terminal-status]')?.textContent === 'connected');
    await b.page.click('[data-testid=terminal]');
    await b.page.keyboard.type('X=kept-$((40+2)); echo ready-$X');
    await b.page.keyboard.press('Enter');
    await b.page.waitForFunction(() => (document.querySelector('.xterm-rows')?.textContent ?? '').includes('ready-kept-42'));
    const cols = await b.page.evaluate(() => document.querySelector('.xterm-rows')?.children.length ?? 0);
    // another view, then back: was a new shell (the old one ended with its socket), $X unset
    await b.page.click('[data-testid=nav-logs]');
    await new Promise((r) => setTimeout(r, 500));
    await b.page.click('[data-testid=nav-terminal]');
    await b.page.click('[data-testid=terminal]');
    await b.page.keyboard.type('echo again-$X-$COLUMNS');
    await b.page.keyboard.press('Enter');
    await b.page.waitForFunction(() => /again-kept-42-\d{2,}/.test(document.querySelector('.xterm-rows')?.textContent ?? ''));
    expect(await b.page.textContent('[data-testid=terminal-status]')).toBe('connected');
    expect(await b.page.evaluate(() => document.querySelector('.xterm-rows')?.children.length ?? 0)).toBe(cols);
  });

  it('is refused without the token, with a wrong one, and from a foreign origin', async () => {
    const ws = `${d.url.replace('http', 'ws')}/terminal`;
    expect(await upgradeStatus(ws)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=wrong`)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=${encodeURIComponent(d.token)}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`${ws}?token=${encodeURIComponent(d.token)}`)).toBe(101);
  });
});

describe('web terminal of the bundled daemon (what `cco` installs) started from its own V8 code cache', () => {
  let d: DaemonProcess;

  beforeAll(async () => {
    await ensureBuilt();
    // No build seed: the first start compiles and saves the cache in the home, the second loads it.
    d = await startDaemonProcess({ cli: BUNDLED_CLI, terminal: true, env: { SHELL: '/bin/bash', CCO_NO_SEED_CACHE: '1' } });
    const cacheDir = join(d.env.CCO_HOME as string, 'cache');
    const saved = (): boolean => existsSync(cacheDir) && readdirSync(cacheDir).some((f) => f.startsWith('daemon_cjs-') && f.endsWith('.v8cache'));
    for (let i = 0; i < 100 && !saved(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(saved()).toBe(true);
    await d.restart();
  }, 240_000);
  afterAll(async () => {
    await d?.cleanup();
  });

  it('starts a shell (node-pty loads although the daemon code came from the cache)', async () => {
    expect(await shellRoundTrip(d.url, d.token)).toContain('cco-42-ok');
  });
});
