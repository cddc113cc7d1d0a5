import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeProvider } from '../../src/fake-provider/server.js';
import { demoPipelineReply } from '../../src/pipeline/demo-responder.js';
import { openBrowser, post } from './browser.js';
import type { Browser } from './browser.js';
import { ensureBuilt } from './build.js';
import { startDaemonProcess } from './daemon-process.js';
import type { DaemonProcess } from './daemon-process.js';

const VIEWS = ['overview', 'agents', 'pipeline', 'gateway', 'cache', 'events', 'logs', 'terminal'] as const;

describe('dashboard in chromium against a real daemon', () => {
  let d: DaemonProcess;
  let b: Browser;
  let fake: FakeProvider;

  beforeAll(async () => {
    await ensureBuilt();
    // The only fake: the LLM upstream. Each reply takes a moment so agents are seen Working.
    fake = await startFakeProvider({ responder: (r) => ({ ...(demoPipelineReply(r) ?? { text: 'ok' }), firstByteDelayMs: 600 }) });
    d = await startDaemonProcess({ env: { CCO_ANTHROPIC_BASE_URL: fake.url } });
    b = await openBrowser(d.url);
  }, 240_000);
  afterAll(async () => {
    await b?.close();
    await d?.cleanup();
    await fake?.close();
  });

  const view = async (name: string): Promise<void> => {
    await b.page.click(`[data-testid=nav-${name}]`);
    await b.page.waitForSelector(`[data-testid=view-${name}]`);
  };

  it('signs in with ?token= (HttpOnly SameSite=Strict cookie, token gone from the address bar), loads every view with no console error and no external request', async () => {
    await b.page.goto(`${d.url}/?token=${encodeURIComponent(d.token)}`);
    expect(new URL(b.page.url()).search).toBe('');
    const cookie = (await b.context.cookies(d.url)).find((c) => c.name === `cco_token_${new URL(d.url).port}`);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', value: d.token });
    await b.page.waitForSelector('[data-testid=conn-state][data-state=open]');
    // The replay of the hub brought the daemon's start line into the console.
    await b.page.waitForSelector('[data-testid=health-table]');
    for (const v of VIEWS) {
      await view(v);
      await b.page.waitForTimeout(300);
      await b.shot(v);
    }
    await view('logs');
    await expect.poll(() => b.page.textContent('[data-testid=log-list]')).toContain('daemon started');
    expect(b.errors).toEqual([]);
    expect(b.external).toEqual([]);
  });

  it('refuses a wrong token and a page without one; WebSockets need the token', async () => {
    const wrong = await fetch(`${d.url}/?token=nope`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const other = await b.context.browser()?.newContext();
    if (other) {
      const p = await other.newPage();
      await p.goto(d.url);
      await p.waitForSelector('[data-testid=banner-unauthorized]');
      await other.close();
    }
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${d.url.replace('http', 'ws')}/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(code).toBe(401);
  });

  it('shows Claude Code hook activity live, without reloading', async () => {
    await view('agents');
    const session = `s-${Date.now()}`;
    const pre = await post(`${d.url}/api/hooks/PreToolUse`, { session_id: session, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } });
    expect(pre.status).toBe(200);
    const card = `[data-testid=agent-card][data-agent="${session}"]`;
    await b.page.waitForSelector(`${card}[data-status=Working]`);
    expect(await b.page.textContent(card)).toContain('Bash');
    await b.shot('agents-working');
    await post(`${d.url}/api/hooks/PostToolUse`, { session_id: session, tool_name: 'Bash' });
    await post(`${d.url}/api/hooks/Stop`, { session_id: session });
    await b.page.waitForSelector(`${card}[data-status=Ready]`);
    expect(await b.page.textContent(`${card} [data-testid=agent-completed]`)).toBe('1');
    await view('events');
    await expect.poll(() => b.page.textContent('[data-testid=event-list]')).toContain(session);
    expect(b.errors).toEqual([]);
  });

  it('a requirement submitted from the page moves agent cards to Working and back, advances the pipeline, fills the console and the gateway charts — live', async () => {
    await view('pipeline');
    await b.page.fill('[data-testid=requirement-input]', 'Write a small command line tool that counts the words in a text file, with tests');
    await b.page.click('[data-testid=requirement-submit]');
    await b.page.waitForSelector('[data-testid=requirement-message]');
    const message = (await b.page.textContent('[data-testid=requirement-message]')) ?? '';
    const taskId = /Task (\S+) submitted/.exec(message)?.[1];
    expect(taskId, message).toBeTruthy();
    const card = `[data-testid=task-card][data-task="${taskId}"]`;
    // Seen in a stage column while it runs, then in completed — without a reload.
    await b.page.waitForSelector(`[data-testid=column-implementation] ${card}, [data-testid=column-validation] ${card}, [data-testid=column-analysis] ${card}`, { timeout: 30_000 });
    await b.shot('pipeline-running');
    await view('agents');
    await b.page.waitForSelector('[data-testid=agent-card][data-status=Working]', { timeout: 20_000 });
    await b.shot('agents-pipeline-working');
    await view('pipeline');
    await b.page.waitForSelector(`[data-testid=column-completed] ${card}`, { timeout: 60_000 });
    await b.shot('pipeline-completed');
    await view('agents');
    // Every stage agent is back to Ready and counts the finished task.
    await expect.poll(async () => b.page.$$eval('[data-testid=agent-card][data-status=Working]', (els) => els.length)).toBe(0);
    const done = await b.page.$$eval('[data-testid=agent-card]:not([data-agent^="s-"]) [data-testid=agent-completed]', (els) => els.map((e) => Number(e.textContent)));
    expect(done.filter((n) => n >= 1).length).toBeGreaterThanOrEqual(4);
    await view('logs');
    await expect.poll(() => b.page.textContent('[data-testid=log-list]')).toContain(`Task completed: ${taskId}`);
    await b.shot('logs-pipeline');
    await view('gateway');
    await b.page.waitForFunction(() => Number(document.querySelector('[data-testid=request-list]')?.getAttribute('data-count')) >= 4);
    await b.page.waitForSelector('[data-testid=model-table]');
    // The analytics history (GET /api/machine/stats chartData) has the requests too.
    await b.page.waitForSelector('[data-testid=history-requests]');
    expect(await b.page.textContent('[data-testid=view-gateway]')).toContain('source: analytics');
    await b.page.waitForTimeout(1200); // the charts redraw once a second
    await b.shot('gateway-after-requests');
    // The cache view reads the gateway's cache and clears it with a POST the page signs with its cookie.
    await view('cache');
    await expect.poll(async () => Number(await b.page.textContent('[data-testid=cache-entries] .stat-value'))).toBeGreaterThan(0);
    await b.shot('cache-filled');
    b.page.once('dialog', (dlg) => void dlg.accept());
    await b.page.click('[data-testid=cache-clear]');
    await b.page.waitForSelector('[data-testid=cache-message]');
    expect(await b.page.textContent('[data-testid=cache-message]')).toMatch(/^Cleared [1-9]\d* entries/);
    await expect.poll(async () => b.page.textContent('[data-testid=cache-entries] .stat-value')).toBe('0');
    expect(b.errors).toEqual([]);
    expect(b.external).toEqual([]);
  });

  it('shows Disconnected when the daemon is killed and reconnects by itself when it is back', async () => {
    await view('overview');
    await d.kill();
    await b.page.waitForSelector('[data-testid=banner-disconnected]', { timeout: 10_000 });
    expect(await b.page.getAttribute('[data-testid=conn-state]', 'data-state')).toBe('disconnected');
    await b.shot('disconnected');
    await d.restart();
    await b.page.waitForSelector('[data-testid=conn-state][data-state=open]', { timeout: 20_000 });
    expect(await b.page.$('[data-testid=banner-disconnected]')).toBeNull();
    // Data flows again after the reconnection, into a page that was never reloaded.
    const session = `after-restart-${Date.now()}`;
    await view('agents');
    await post(`${d.url}/api/hooks/PreToolUse`, { session_id: session, tool_name: 'Read' });
    await b.page.waitForSelector(`[data-testid=agent-card][data-agent="${session}"][data-status=Working]`);
    await b.shot('reconnected');
    b.errors.length = 0; // the refused connections while the daemon was down are expected console noise
  });
});
