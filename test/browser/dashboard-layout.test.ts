import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, post } from './browser.js';
import type { Browser } from './browser.js';
import { ensureBuilt } from './build.js';
import { startDaemonProcess } from './daemon-process.js';
import type { DaemonProcess } from './daemon-process.js';

describe('dashboard views: pausing events, an empty overview, a narrow window', () => {
  let d: DaemonProcess;
  let b: Browser;

  beforeAll(async () => {
    await ensureBuilt();
    d = await startDaemonProcess();
    b = await openBrowser(d.url);
    await b.page.goto(`${d.url}/?token=${encodeURIComponent(d.token)}`);
    await b.page.waitForSelector('[data-testid=conn-state][data-state=open]');
  }, 240_000);
  afterAll(async () => {
    await b?.close();
    await d?.cleanup();
  });

  const view = async (name: string): Promise<void> => {
    await b.page.click(`[data-testid=nav-${name}]`);
    await b.page.waitForSelector(`[data-testid=view-${name}]`);
  };
  const hooks = async (n: number, tag: string): Promise<void> => {
    for (let i = 0; i < n; i++) await post(`${d.url}/api/hooks/PreToolUse`, { session_id: `layout-${tag}`, tool_name: 'Grep' });
  };

  it('says why "Latest activity" is empty when only log lines have arrived', async () => {
    await view('overview');
    const items = b.page.locator('[data-testid=latest-activity] li');
    await items.first().waitFor({ timeout: 5000 });
    expect(await items.count()).toBeGreaterThan(0);
  });

  it('Pause freezes the event list without a filter; Resume shows what came meanwhile', async () => {
    await view('events');
    await hooks(3, 'before');
    const counts = async (): Promise<{ shown: number; received: number }> => {
      const m = /(\d+) shown · (\d+) received/.exec(await b.page.innerText('[data-testid=events-count]'));
      return { shown: Number(m?.[1]), received: Number(m?.[2]) };
    };
    const firstRow = (): Promise<string> => b.page.innerText('[data-testid=event-list] .event-row >> nth=0');
    await b.page.waitForFunction(() => /^[1-9]/.test(document.querySelector('[data-testid=events-count]')?.textContent ?? ''));
    await b.page.click('[data-testid=events-pause]');
    const before = await counts();
    const top = await firstRow();
    await hooks(3, 'while-paused');
    await b.page.waitForFunction((n) => Number(/(\d+) received/.exec(document.querySelector('[data-testid=events-count]')?.textContent ?? '')?.[1]) > n, before.received);
    expect((await counts()).shown).toBe(before.shown);
    expect(await firstRow()).toBe(top);
    await b.page.click('[data-testid=events-pause]');
    await b.page.waitForFunction((n) => Number(/(\d+) shown/.exec(document.querySelector('[data-testid=events-count]')?.textContent ?? '')?.[1]) > n, before.shown);
    expect(await firstRow()).toContain('while-paused');
  });

  it('fits a 400 px window: lists keep their width, charts do not overflow, the nav stays one row', async () => {
    await b.page.setViewportSize({ width: 400, height: 800 });
    try {
      await view('events');
      const box = async (sel: string) => (await b.page.locator(sel).first().boundingBox()) ?? { x: 0, y: 0, width: 0, height: 0 };
      expect((await box('[data-testid=event-list]')).width).toBeGreaterThan(300);
      expect((await box('header.top')).height).toBeLessThan(110);
      await view('gateway');
      await b.page.waitForSelector('[data-testid=chart-tokens] canvas');
      const overflow = await b.page.evaluate(() => ({ page: document.documentElement.scrollWidth, main: document.querySelector('main')?.scrollWidth ?? 0 }));
      expect(overflow.page).toBeLessThanOrEqual(400);
      expect(overflow.main).toBeLessThanOrEqual(400);
      const chart = await box('[data-testid=chart-tokens]');
      expect(chart.x + chart.width).toBeLessThanOrEqual(400);
      expect((await box('[data-testid=request-list]')).width).toBeGreaterThan(300);
      await b.shot('narrow-400-gateway');
      await view('events');
      await b.shot('narrow-400-events');
    } finally {
      await b.page.setViewportSize({ width: 1400, height: 900 });
    }
    expect(b.errors).toEqual([]);
  });
});
