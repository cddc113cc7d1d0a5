import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../../testing/test-daemon.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

type Json = Record<string, unknown>;
const base = { model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'Hello' }] };
const clientHeaders = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
const json = { 'content-type': 'application/json' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cacheTtlSeconds: 3600 });
});
afterAll(async () => {
  await h?.close();
});

const send = async (g: Harness, body: Json) => {
  const r = await fetch(`${g.url}/v1/messages`, { method: 'POST', headers: { ...json, ...clientHeaders }, body: JSON.stringify(body) });
  await r.arrayBuffer();
  return r.headers.get('x-cco-cache');
};
const debug = async (url: string, body: Json, headers: Record<string, string> = {}) => {
  const r = await fetch(`${url}/api/cache/debug`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Json };
};
/** A conversation of about `mb` MB, as a long Claude Code session sends it. */
const longConversation = (mb: number) => ({ ...base, messages: [{ role: 'user', content: 'x'.repeat(mb * 1024 * 1024) }] });

describe('POST /api/cache/debug takes requests as large as /v1 does', () => {
  it('checks a 2 MB conversation (over the API default of 1 MB); past 32 MB it is a 413 naming the limit', async () => {
    const r = await debug(h.url, { request: longConversation(2), headers: clientHeaders });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ endpoint: 'messages', cached: false });
    const tooLarge = await debug(h.url, { request: longConversation(33) });
    expect(tooLarge.status).toBe(413);
    expect((tooLarge.body.error as Json).message).toContain('32 MB');
  });

  it('in the daemon too', async () => {
    const t = await startTestDaemon();
    try {
      const r = await debug(t.url, { request: longConversation(2) }, { 'x-cco-token': t.token });
      expect(r.status).toBe(200);
    } finally {
      await t.cleanup();
    }
  });
});

describe('POST /api/cache/debug reasons', () => {
  it('without headers, a request cached with them gets a hint to pass headers; with them it is a hit', async () => {
    const request = { ...base, messages: [{ role: 'user', content: 'debug my headers' }] };
    expect(await send(h, request)).toBe('MISS');
    const bare = await debug(h.url, { request });
    expect(bare.body).toMatchObject({ cached: false, nearest: { differingFields: ['credentials', 'header:anthropic-version'] } });
    expect(bare.body.reason).toMatch(/Only headers differ and none were given: .*pass the client's too, e\.g\. \{"request": \{\.\.\.\}, "headers": \{"x-api-key"/);
    const full = await debug(h.url, { request, headers: clientHeaders });
    expect(full.body).toMatchObject({ cached: true, wouldHit: true, reason: 'an identical request is cached: it would be a hit' });
    // a body field differing too: the hint would mislead
    const other = await debug(h.url, { request: { ...request, max_tokens: 7 } });
    expect(other.body.reason).not.toContain('none were given');
    // headers given (other ones): no hint either
    const wrong = await debug(h.url, { request, headers: { 'x-api-key': 'another' } });
    expect(wrong.body.reason).not.toContain('none were given');
  });

  it('says an answer was too large to store rather than "the cache is empty"', async () => {
    // --cache-size 0.001: 1 KB, less than any answer with its bookkeeping
    const g = await startHarness({ cacheSizeMb: 0.001 });
    try {
      expect(await send(g, base)).toBe('MISS');
      expect(await send(g, base)).toBe('MISS');
      const r = await debug(g.url, { request: base, headers: clientHeaders });
      expect(r.body).toMatchObject({ cached: false, wouldHit: false });
      expect(r.body.reason).toMatch(/^the answer to this request was too large to store \(\d+ bytes\): the whole cache holds 1049 bytes \(--cache-size\); raise --cache-size/);
      // another request was never answered: the cache is empty for it
      expect((await debug(g.url, { request: { ...base, max_tokens: 9 }, headers: clientHeaders })).body.reason).toBe('the cache is empty');
    } finally {
      await g.close();
    }
  });

  it('stats and clear name the process answering', async () => {
    const stats = (await (await fetch(`${h.url}/api/cache/stats`)).json()) as Json;
    expect(stats.pid).toBe(process.pid);
    const cleared = (await (await fetch(`${h.url}/api/cache/clear`, { method: 'POST' })).json()) as Json;
    expect(cleared).toMatchObject({ status: 'ok', pid: process.pid });
    expect(cleared).not.toHaveProperty('workers');
  });
});

describe('POST /api/maintenance/archive-old-analytics', () => {
  const archive = async (query: string, body?: Json) => {
    const r = await fetch(`${h.url}/api/maintenance/archive-old-analytics${query}`, { method: 'POST', ...(body ? { headers: json, body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as Json };
  };

  it('takes older_than_days from the query string as well as the body (default 90)', async () => {
    expect((await archive('?older_than_days=3')).body).toMatchObject({ status: 'ok', older_than_days: 3 });
    expect((await archive('', { older_than_days: 7 })).body).toMatchObject({ status: 'ok', older_than_days: 7 });
    expect((await archive('?older_than_days=7', { older_than_days: 7 })).body).toMatchObject({ status: 'ok', older_than_days: 7 });
    expect((await archive('')).body).toMatchObject({ status: 'ok', older_than_days: 90 });
  });

  it('refuses unknown query keys, bad values and two different values', async () => {
    const unknown = await archive('?older_than=3');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toEqual({ code: 'invalid_request', field: 'query', message: 'query: Unrecognized key: "older_than"' });
    const bad = await archive('?older_than_days=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: 'query.older_than_days', message: 'query.older_than_days: an integer from 0 to 36500' });
    const both = await archive('?older_than_days=3', { older_than_days: 90 });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ field: 'query.older_than_days', message: expect.stringContaining('give it once') });
  });
});
