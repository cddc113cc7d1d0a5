import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { ROOT } from './build.js';

export const CHROMIUM = process.env.CCO_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** console.error lines and uncaught page errors, in order. */
  errors: string[];
  /** Requests that left the daemon's origin. */
  external: string[];
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Debian's chromium (never a downloaded browser) with a fresh profile, watching every console
 * error and every request that goes anywhere but `origin`.
 */
export async function openBrowser(origin: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'cco-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors: string[] = [];
  const external: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  const watch = (p: Page): void => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  };
  watch(page);
  context.on('page', watch);
  context.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    const o = new URL(u);
    const wsOrigin = origin.replace(/^http/, 'ws');
    if (o.origin !== origin && o.origin !== wsOrigin) external.push(u);
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    errors,
    external,
    async shot(name) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** POST JSON to the daemon as a program would (no Origin header, like Claude Code's hooks). */
export async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}
