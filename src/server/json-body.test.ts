import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';

const run = promisify(execFile);

/** The guides' commands as written: `curl -X POST URL -d '{...}'`, no Content-Type header (curl then sends a form type). */
async function curlPost(url: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const { stdout } = await run('curl', ['-sS', '-X', 'POST', url, '-d', body, '-w', '\n%{http_code}']);
  const nl = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(nl + 1)), json: JSON.parse(stdout.slice(0, nl)) as Record<string, unknown> };
}

async function postJson(url: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

// one daemon for both groups
let t: TestDaemon;
beforeAll(async () => {
  t = await startTestDaemon();
});
afterAll(() => t.cleanup());

describe('JSON request bodies', () => {
  it('a forbidden key is named as such, not reported as a syntax error', async () => {
    for (const body of ['{"__proto__": {"x": 1}}', '{"a": {"constructor": {"prototype": {"x": 1}}}}']) {
      const r = await postJson(`${t.url}/api/maintenance/archive-old-analytics`, body);
      expect(r.status, body).toBe(400);
      expect(r.json, body).toMatchObject({ error: { code: 'forbidden_key', field: 'body' } });
    }
  });

  it('a compressed body is a 415 naming content-encoding, not malformed JSON', async () => {
    const r = await fetch(`${t.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"older_than_days": 90}') });
    expect(r.status).toBe(415);
    expect(await r.json()).toMatchObject({ error: { code: 'unsupported_encoding', field: 'headers.content-encoding' } });
  });

  it('malformed JSON is still invalid_json', async () => {
    const r = await postJson(`${t.url}/api/maintenance/archive-old-analytics`, '{"older_than_days": 9');
    expect(r).toMatchObject({ status: 400, json: { error: { code: 'invalid_json', field: 'body' } } });
    // the parser says where, not merely that the content type was JSON
    const comma = await postJson(`${t.url}/api/maintenance/archive-old-analytics`, '{"older_than_days": 9,}');
    expect(comma).toMatchObject({ status: 400, json: { error: { code: 'invalid_json', field: 'body', message: expect.stringMatching(/^Malformed JSON body: .*position 22/) } } });
  });

  it('JSON nested thousands of levels deep is a 400 naming the body, on every route that reads JSON', async () => {
    const deep = `{"a":${'['.repeat(10_000)}1${']'.repeat(10_000)}}`;
    for (const path of ['/api/maintenance/archive-old-analytics', '/api/cache/debug', '/api/hooks/PostToolUse']) {
      const r = await postJson(`${t.url}${path}`, deep);
      expect(r.status, path).toBe(400);
      expect(r.json, path).toMatchObject({ error: { code: 'invalid_request', field: 'body', message: expect.stringContaining('nested deeper than 64') } });
    }
    // 64 levels is fine (the route's own validation answers)
    const ok = await postJson(`${t.url}/api/maintenance/archive-old-analytics`, `{"older_than_days": 90, "x": ${'['.repeat(63)}${']'.repeat(63)}}`);
    expect(ok.json).not.toMatchObject({ error: { message: expect.stringContaining('nested') } });
  });
});

describe('curl -d without a JSON Content-Type', () => {
  it('archive-old-analytics reads the body as JSON (seed 000)', async () => {
    const r = await curlPost(`${t.url}/api/maintenance/archive-old-analytics`, '{"older_than_days": 90}');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok', older_than_days: 90 });
  });

  it('cache/debug reads the body as JSON (seed 000)', async () => {
    const r = await curlPost(`${t.url}/api/cache/debug`, '{"request": {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ endpoint: 'messages' });
  });

  it('validation still names the field', async () => {
    const r = await curlPost(`${t.url}/api/maintenance/archive-old-analytics`, '{"older_than_days": "ninety"}');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { field: 'body.older_than_days' } });
  });

  it('a real form body is a 400 naming the body, with the fix', async () => {
    const r = await curlPost(`${t.url}/api/maintenance/archive-old-analytics`, 'older_than_days=90');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'invalid_json', field: 'body', message: expect.stringMatching(/Content-Type: application\/json/) } });
    // the parser's words, not Fastify's claim that the content type was JSON
    expect((r.json as { error: { message: string } }).error.message).not.toContain("content-type is set to 'application/json'");
  });

  it('a __proto__ key is refused as it is in JSON bodies, and the error says so', async () => {
    const r = await curlPost(`${t.url}/api/maintenance/archive-old-analytics`, '{"__proto__": {"older_than_days": 1}}');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'forbidden_key', field: 'body', message: expect.stringContaining('__proto__') } });
  });

  it('the /v1 routes still take any body raw (their scope has no shared parsers)', async () => {
    const r = await curlPost(`${t.url}/v1/messages`, 'not json');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('a JSON body sent as text/plain (fetch with a string body and no Content-Type)', () => {
  const plain = (path: string, body: string) => fetch(`${t.url}${path}`, { method: 'POST', body });

  it('is read as JSON', async () => {
    const r = await plain('/api/maintenance/archive-old-analytics', JSON.stringify({ older_than_days: 90 }));
    expect(r.headers.get('content-type') ?? '').toContain('application/json');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', older_than_days: 90 });
    // validation names the field, as for application/json
    const bad = await plain('/api/maintenance/archive-old-analytics', JSON.stringify({ older_than_days: 'ninety' }));
    expect(await bad.json()).toMatchObject({ error: { field: 'body.older_than_days' } });
  });

  it('text that is not JSON is a 400 telling to send application/json', async () => {
    const r = await plain('/api/maintenance/archive-old-analytics', 'older than 90 days');
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'invalid_json', field: 'body', message: expect.stringMatching(/sent as text\/plain.*Content-Type: application\/json/) } });
  });

  it('an empty text body is no body', async () => {
    const r = await fetch(`${t.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' });
    expect(r.status).toBe(200);
  });
});

