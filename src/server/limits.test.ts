import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { sizeText } from './errors.js';

let t: TestDaemon;
beforeAll(async () => {
  t = await startTestDaemon();
});
afterAll(() => t.cleanup());

describe('errors over a limit state the limit in force', () => {
  it('a path segment over the daemon\'s 512 characters says 512', async () => {
    const r = await fetch(`${t.url}/api/tasks/t_${'a'.repeat(600)}`);
    expect(r.status).toBe(414);
    expect(await r.json()).toEqual({ error: { code: 'uri_too_long', message: 'A path segment is longer than 512 characters; identifiers are much shorter', field: 'params' } });
  });

  it('a body over the limit says the limit of the route that refused it', async () => {
    const post = (path: string, bytes: number) => fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'x'.repeat(bytes) }) });
    const plain = await post('/api/maintenance/archive-old-analytics', 1024 * 1024);
    expect(plain.status).toBe(413);
    expect(await plain.json()).toEqual({ error: { code: 'body_too_large', message: 'Request body is larger than the 1 MB this route accepts', field: 'body' } });
    // the hook receiver takes transcripts of up to 8 MB
    const hook = await post('/api/hooks/PostToolUse', 8 * 1024 * 1024);
    expect(hook.status).toBe(413);
    expect(await hook.json()).toMatchObject({ error: { message: 'Request body is larger than the 8 MB this route accepts' } });
  });

  it('a query limit past its range says the range, not the safe-integer bound', async () => {
    const r = await fetch(`${t.url}/api/logs?limit=99999999999999999999`);
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: { code: 'invalid_request', message: 'query.limit: an integer from 1 to 2000', field: 'query.limit' } });
  });

  it('/api/logs refuses a parameter it does not take, as `cco proxy` does', async () => {
    const r = await fetch(`${t.url}/api/logs?limit=1&offset=1`);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'invalid_request', field: 'query', message: expect.stringContaining('"offset"') } });
  });
});

describe('sizeText', () => {
  it('writes limits as people do', () => {
    expect([sizeText(1024 * 1024), sizeText(8 * 1024 * 1024), sizeText(512 * 1024), sizeText(1024 * 1024 + 1024), sizeText(1500)]).toEqual(['1 MB', '8 MB', '512 KB', '1025 KB', '1500 bytes']);
  });
});
