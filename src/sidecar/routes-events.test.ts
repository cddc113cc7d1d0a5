import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';
import { lifetimes } from './routes-events.js';

interface Ev {
  id: number;
  event_type: string;
  topic: string | null;
  publisher: string;
  issue_id: string | null;
  data: Record<string, unknown>;
}
interface WaitBody {
  events: Ev[];
  cursor: number;
  timed_out: boolean;
}

describe('sidecar events (real HTTP)', () => {
  let w: SidecarWorld;
  beforeAll(async () => {
    w = await startSidecarWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  it("runs the seed's multi-agent flow: architect → specialist → tester → security auditor", async () => {
    const issue = 'issue-123';
    const [architect, specialist, tester, auditor] = await Promise.all(
      ['chief-architect', 'python-specialist', 'test-engineer', 'security-auditor'].map((t) => w.token(t, [issue])),
    );
    const u = w.sidecarUrl;
    const order: string[] = [];
    // everyone waits first (long-poll), then the architect publishes
    const specialistDone = (async () => {
      const r = await call<WaitBody>('GET', `${u}/api/events/wait/architecture_defined?filter=topic:architecture&timeout=10000`, { token: specialist });
      expect(r.status).toBe(200);
      expect(r.body.timed_out).toBe(false);
      expect(r.body.events[0]?.data).toEqual({ design: 'REST API' });
      order.push('specialist woke');
      const p = await call('POST', `${u}/api/events/implementation_complete`, { token: specialist, body: { publisher: 'python-specialist-123', topic: 'implementation', data: { files: ['api.py'] } } });
      expect(p.status).toBe(201);
    })();
    const testerDone = (async () => {
      const r = await call<WaitBody>('GET', `${u}/api/events/wait/implementation_complete?timeout=10000`, { token: tester });
      expect(r.body.events[0]).toMatchObject({ topic: 'implementation', publisher: 'python-specialist-123', issue_id: issue, data: { files: ['api.py'] } });
      order.push('tester woke');
      await call('POST', `${u}/api/events/testing_complete`, { token: tester, body: { topic: 'testing', data: { coverage: 95 } } });
    })();
    const auditorDone = (async () => {
      const r = await call<WaitBody>('GET', `${u}/api/events/wait/testing_complete?timeout=10000`, { token: auditor });
      expect(r.body.events[0]).toMatchObject({ topic: 'testing', data: { coverage: 95 } });
      order.push('auditor woke');
    })();
    // all three are parked before the architect publishes (polling: the machine may be slow)
    for (let i = 0; ; i++) {
      const status = await call<Record<string, Record<string, number>>>('GET', `${u}/status`);
      if (status.body.events?.active_subscriptions === 3) break;
      expect(i, 'three parked waiters').toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 25));
    }
    order.push('architect publishes');
    const pub = await call<Ev>('POST', `${u}/api/events/architecture_defined`, { token: architect, body: { topic: 'architecture', data: { design: 'REST API' } } });
    expect(pub.status).toBe(201);
    expect(pub.body).toMatchObject({ status: 'published', event_type: 'architecture_defined', topic: 'architecture', issue_id: issue });
    await Promise.all([specialistDone, testerDone, auditorDone]);
    expect(order).toEqual(['architect publishes', 'specialist woke', 'tester woke', 'auditor woke']);
    // the dashboard sees it live
    const types = w.hub.recent({ types: ['event_published'] }).map((m) => (m.data as { event_type: string }).event_type);
    expect(types).toEqual(expect.arrayContaining(['architecture_defined', 'implementation_complete', 'testing_complete']));
  });

  it('a wait returns at once when a matching event exists after the cursor, and honours the filter', async () => {
    const tok = await w.token('python-specialist', ['issue-w']);
    const u = w.sidecarUrl;
    const a = await call<Ev>('POST', `${u}/api/events/build_done`, { token: tok, body: { topic: 'backend', data: { n: 1 } } });
    await call<Ev>('POST', `${u}/api/events/build_done`, { token: tok, body: { topic: 'frontend', data: { n: 2 } } });
    const t0 = Date.now();
    const r = await call<WaitBody>('GET', `${u}/api/events/wait/build_done?filter=topic:frontend&timeout=5000&after=${a.body.id - 1}`, { token: tok });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.body.events.map((e) => e.data.n)).toEqual([2]);
    const none = await call<WaitBody>('GET', `${u}/api/events/wait/build_done?filter=topic:frontend&timeout=200&after=${r.body.cursor}`, { token: tok });
    expect(none.body).toMatchObject({ events: [], timed_out: true, cursor: r.body.cursor });
  });

  it('loses no event between two waits and never repeats one for the same cursor', async () => {
    const tok = await w.token('test-engineer', ['issue-seq']);
    const u = w.sidecarUrl;
    const N = 60;
    const publisher = (async () => {
      for (let i = 0; i < N; i++) {
        await call('POST', `${u}/api/events/tick`, { token: tok, body: { topic: 'seq', data: { i } } });
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const seen: number[] = [];
    let cursor = 0;
    while (seen.length < N) {
      const r = await call<WaitBody>('GET', `${u}/api/events/wait/tick?filter=topic:seq&timeout=5000&limit=7&after=${cursor}`, { token: tok });
      expect(r.status).toBe(200);
      expect(r.body.timed_out).toBe(false);
      for (const e of r.body.events) {
        expect(e.id).toBeGreaterThan(cursor);
        seen.push(e.data.i as number);
      }
      cursor = r.body.cursor;
      // same cursor again gives the same events, never different ones
      if (seen.length === 14) {
        const again = await call<WaitBody>('GET', `${u}/api/events/wait/tick?filter=topic:seq&timeout=0&limit=7&after=${cursor}`, { token: tok });
        for (const e of again.body.events) expect(e.id).toBeGreaterThan(cursor);
      }
    }
    await publisher;
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('hides events of other issues from a scoped token', async () => {
    const mine = await w.token('test-engineer', ['issue-a']);
    const other = await w.token('test-engineer', ['issue-b']);
    await call('POST', `${w.sidecarUrl}/api/events/secret_thing`, { token: other, body: { topic: 'x', data: { s: 1 } } });
    const r = await call<WaitBody>('GET', `${w.sidecarUrl}/api/events/wait/secret_thing?timeout=100`, { token: mine });
    expect(r.body.events).toEqual([]);
    const list = await call<{ events: Ev[] }>('GET', `${w.sidecarUrl}/api/events?event_type=secret_thing`, { token: other });
    expect(list.body.events).toHaveLength(1);
  });

  it('streams events over SSE from a cursor, each once, in order', async () => {
    const tok = await w.token('security-auditor', ['issue-sse']);
    const u = w.sidecarUrl;
    const first = await call<Ev>('POST', `${u}/api/events/sse_evt`, { token: tok, body: { topic: 's', data: { i: 0 } } });
    const ac = new AbortController();
    const res = await fetch(`${u}/api/events/stream/sse_evt?after=${first.body.id - 1}`, { headers: { authorization: `Bearer ${tok}` }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let buf = '';
    const got: number[] = [];
    const pub = (async () => {
      for (let i = 1; i < 5; i++) await call('POST', `${u}/api/events/sse_evt`, { token: tok, body: { topic: 's', data: { i } } });
    })();
    while (got.length < 5) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += Buffer.from(value).toString('utf8');
      let idx;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data) got.push((JSON.parse(data.slice(6)) as Ev).data.i as number);
      }
    }
    await pub;
    ac.abort();
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('an SSE reader that stops reading holds its stream back (nothing piles up in memory), then gets every event once', async () => {
    const tok = await w.token('security-auditor', ['issue-slow']);
    const u = w.sidecarUrl;
    const status = async () => (await call<{ events: { subscriptions_behind: number } }>('GET', `${u}/status`)).body.events;
    const req = request(`${u}/api/events/stream/slow_evt?after=0`, { headers: { authorization: `Bearer ${tok}` } });
    req.end();
    const res = await new Promise<IncomingMessage>((r) => req.on('response', r));
    res.pause();
    // 30 events of 400 KB: far more than the socket buffers hold
    const blob = 'x'.repeat(400_000);
    for (let i = 0; i < 30; i++) await call('POST', `${u}/api/events/slow_evt`, { token: tok, body: { data: { i, blob } } });
    await expect.poll(async () => (await status()).subscriptions_behind, { timeout: 5000 }).toBe(1);
    // the reader comes back: every event, once, in order
    const got: number[] = [];
    let buf = '';
    res.setEncoding('utf8');
    await new Promise<void>((resolve) => {
      res.on('data', (chunk: string) => {
        buf += chunk;
        let idx;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const data = buf.slice(0, idx).split('\n').find((l) => l.startsWith('data: '));
          buf = buf.slice(idx + 2);
          if (data) got.push((JSON.parse(data.slice(6)) as Ev).data.i as number);
        }
        if (got.length >= 30) resolve();
      });
      res.resume();
    });
    req.destroy();
    expect(got).toEqual(Array.from({ length: 30 }, (_x, i) => i));
    expect((await status()).subscriptions_behind).toBe(0);
  });

  it('SSE: Last-Event-ID wins over an older ?after= in the URL (EventSource reconnects to the same URL)', async () => {
    const tok = await w.token('security-auditor', ['issue-resume']);
    const u = w.sidecarUrl;
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await call<Ev>('POST', `${u}/api/events/resume_evt`, { token: tok, body: { data: { i } } })).body.id);
    const ac = new AbortController();
    const res = await fetch(`${u}/api/events/stream/resume_evt?after=${(ids[0] as number) - 1}`, { headers: { authorization: `Bearer ${tok}`, 'last-event-id': String(ids[2]) }, signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes(`id: ${ids[3]}\n`)) text += Buffer.from((await reader.read()).value ?? new Uint8Array()).toString('utf8');
    ac.abort();
    const sent = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(sent).toEqual([ids[3]]);
  });

  it('SSE: a cursor past the newest event (another store) is a 409 naming it, a Last-Event-ID that is no cursor a 400; neither is a silent stream', async () => {
    const tok = await w.token('security-auditor', ['issue-ahead']);
    const u = w.sidecarUrl;
    const first = (await call<Ev>('POST', `${u}/api/events/ahead_evt`, { token: tok, body: { data: { i: 0 } } })).body.id;
    const ahead = await fetch(`${u}/api/events/stream/ahead_evt`, { headers: { authorization: `Bearer ${tok}`, 'last-event-id': String(first + 1_000_000) } });
    expect(ahead.status).toBe(409);
    expect(await ahead.json()).toMatchObject({ error: { code: 'cursor_ahead', field: 'headers.last-event-id' } });
    const viaQuery = await fetch(`${u}/api/events/stream/ahead_evt?after=${first + 1_000_000}`, { headers: { authorization: `Bearer ${tok}` } });
    expect(viaQuery.status).toBe(409);
    expect(await viaQuery.json()).toMatchObject({ error: { code: 'cursor_ahead', field: 'query.after' } });
    for (const bad of ['9'.repeat(400), 'abc', '-3']) {
      const r = await fetch(`${u}/api/events/stream/ahead_evt`, { headers: { authorization: `Bearer ${tok}`, 'last-event-id': bad } });
      expect([bad.slice(0, 5), r.status]).toEqual([bad.slice(0, 5), 400]);
      expect(await r.json()).toMatchObject({ error: { field: 'headers.last-event-id' } });
    }
  });

  it('HEAD on the stream and wait routes answers its headers at once: no stream held open, no wait parked', async () => {
    const tok = await w.token('security-auditor', ['issue-head']);
    const u = w.sidecarUrl;
    const t0 = Date.now();
    const stream = await fetch(`${u}/api/events/stream/head_evt`, { method: 'HEAD', headers: { authorization: `Bearer ${tok}` }, signal: AbortSignal.timeout(3000) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // was: the headers, then a subscription held open for as long as the client kept the connection
    expect(await stream.text()).toBe('');
    const wait = await fetch(`${u}/api/events/wait/head_evt?timeout=2500`, { method: 'HEAD', headers: { authorization: `Bearer ${tok}` }, signal: AbortSignal.timeout(3000) });
    expect(wait.status).toBe(200);
    expect(wait.headers.get('content-type')).toMatch(/^application\/json/);
    // was: parked for the whole timeout before the headers came
    expect(Date.now() - t0).toBeLessThan(1500);
    // still checked as a GET would be
    const bad = await fetch(`${u}/api/events/wait/head_evt?timeout=abc`, { method: 'HEAD', headers: { authorization: `Bearer ${tok}` } });
    expect(bad.status).toBe(400);
  });

  it('SSE: the stream ends when its token expires, with an error event saying so', async () => {
    const tok = await w.token('security-auditor', ['issue-exp'], { ttlSeconds: 2 });
    const u = w.sidecarUrl;
    const t0 = Date.now();
    const res = await fetch(`${u}/api/events/stream/exp_evt`, { headers: { authorization: `Bearer ${tok}` } });
    expect(res.status).toBe(200);
    // was: open for as long as the client kept it, events and all
    const text = await res.text();
    expect(text).toContain('token_expired');
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it("takes the seeds' short paths: POST /api/events/publish with the type in the body, GET /api/events/wait for any type", async () => {
    const token = await w.token('python-specialist', ['issue-short']);
    const u = w.sidecarUrl;
    const before = await call<WaitBody>('GET', `${u}/api/events/wait?timeout=0`, { token });
    expect(before.status).toBe(200);
    const waiting = call<WaitBody>('GET', `${u}/api/events/wait?after=${before.body.cursor}&timeout=5000`, { token });
    await new Promise((r) => setTimeout(r, 50));
    const p = await call<Ev>('POST', `${u}/api/events/publish`, { token, body: { event_type: 'api_ready', topic: 'backend', data: { endpoint: '/users' } } });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ event_type: 'api_ready', topic: 'backend', issue_id: 'issue-short' });
    const got = await waiting;
    expect(got.body.events).toEqual([expect.objectContaining({ event_type: 'api_ready', data: { endpoint: '/users' } })]);
    // without a type there is nothing to publish: a 400 naming the field, not an event of type "publish"
    const bad = await call<{ error: { field: string } }>('POST', `${u}/api/events/publish`, { token, body: { topic: 'backend' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('body.event_type');
  });

  it('rejects bad event input with 4xx naming the field', async () => {
    const tok = await w.token('test-engineer', ['issue-x']);
    const u = w.sidecarUrl;
    const cases: [string, string, unknown, string][] = [
      ['POST', `${u}/api/events/bad%20type`, { topic: 't' }, 'params.eventType'],
      ['POST', `${u}/api/events/ok_type`, { topic: 't', surprise: 1 }, 'body'],
      ['POST', `${u}/api/events/ok_type`, { topic: 'has space' }, 'body.topic'],
      // a filter splits on commas: a topic with one could be published but never waited on
      ['POST', `${u}/api/events/ok_type`, { topic: 'a,b' }, 'body.topic'],
      ['GET', `${u}/api/events/wait/ok_type?timeout=-5`, undefined, 'query.timeout'],
      ['GET', `${u}/api/events/wait/ok_type?after=abc`, undefined, 'query.after'],
      ['GET', `${u}/api/events/wait/ok_type?filter=colour:red`, undefined, 'query.filter'],
      ['GET', `${u}/api/events/wait/ok_type?timeout=99999999`, undefined, 'query.timeout'],
      // one value per key (the second replaced the first), and a bad issue named as the filter
      ['GET', `${u}/api/events/wait/ok_type?filter=topic:a,topic:b`, undefined, 'query.filter'],
      ['GET', `${u}/api/events/wait/ok_type?filter=issue:..bad`, undefined, 'query.filter'],
      // a parameter the route does not take is named, not ignored (`?topic=` waited for any event)
      ['GET', `${u}/api/events/wait/ok_type?topic=issue-x&timeout=0`, undefined, 'query'],
      ['GET', `${u}/api/events?limit=1&offset=1`, undefined, 'query'],
      ['GET', `${u}/api/events/stream/ok_type?since=1`, undefined, 'query'],
      ['GET', `${u}/api/knowledge?q=refund&page=2`, undefined, 'query'],
      ['GET', `${u}/api/context/issue-x/test-engineer?query=refunds`, undefined, 'query'],
    ];
    for (const [m, url, body, field] of cases) {
      const r = await call<{ error: { field: string } }>(m, url, { token: tok, ...(body === undefined ? {} : { body }) });
      expect(r.status, url).toBe(400);
      expect(r.body.error.field, url).toBe(field);
    }
    const bad = await call('POST', `${u}/api/events/ok_type`, { token: tok, rawBody: '{"topic": "t",' });
    expect(bad.status).toBe(400);
    // an empty timeout is the default wait, not a wait of 0 ms
    const t0 = Date.now();
    const blank = call<{ timed_out: boolean }>('GET', `${u}/api/events/wait/blank_timeout?timeout=&after=`, { token: tok });
    const quick = await Promise.race([blank.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(quick).toBe('waiting');
    await call('POST', `${u}/api/events/blank_timeout`, { token: tok, body: { topic: 't' } });
    expect((await blank).body.timed_out).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it("a scoped token publishes as its own role only: another role's name is a 403, so no publisher: waiter wakes on it", async () => {
    const tok = await w.token('python-specialist', ['issue-pub'], { agentId: 'python-specialist-9' });
    const send = (publisher: string) => call<{ publisher: string; error: { field: string } }>('POST', `${w.sidecarUrl}/api/events/implementation_complete`, { token: tok, body: { publisher, topic: 'issue-pub' } });
    // its id, its type (the catalog's prompts) and a name of its type (the seeds' "python-specialist-123")
    for (const ok of ['python-specialist-9', 'python-specialist', 'python-specialist-123']) {
      const r = await send(ok);
      expect(r.status, ok).toBe(201);
      expect(r.body.publisher).toBe(ok);
    }
    const forged = await send('chief-architect');
    expect(forged.status).toBe(403);
    expect(forged.body.error.field).toBe('body.publisher');
    expect((await send('python-specialistX')).status).toBe(403);
    // an all-issues token (the orchestrator) names any publisher
    const orchestrator = await w.token('chief-architect', '*');
    const any = await call('POST', `${w.sidecarUrl}/api/events/architecture_defined`, { token: orchestrator, body: { publisher: 'security-auditor-1', topic: 'issue-pub', issue_id: 'issue-pub' } });
    expect(any.status).toBe(201);
  });

  it('a wait on a cursor past the newest event (a reset store) ends in a 409 naming the newest, not an endless timeout', async () => {
    const tok = await w.token('python-specialist', ['issue-cur']);
    const p = await call<Ev>('POST', `${w.sidecarUrl}/api/events/cursor_probe`, { token: tok, body: { topic: 'issue-cur' } });
    expect(p.status).toBe(201);
    const newest = p.body.id;
    const ahead = await call<{ error: { code: string; field: string; message: string } }>('GET', `${w.sidecarUrl}/api/events/wait/cursor_probe?after=${newest + 1000}&timeout=50`, { token: tok });
    expect(ahead.status).toBe(409);
    expect(ahead.body.error).toMatchObject({ code: 'cursor_ahead', field: 'query.after' });
    expect(ahead.body.error.message).toContain(`after=${newest}`);
    // at the newest event: an ordinary timeout
    const atNewest = await call<WaitBody>('GET', `${w.sidecarUrl}/api/events/wait/cursor_probe?after=${newest}&timeout=50`, { token: tok });
    expect(atNewest.status).toBe(200);
    expect(atNewest.body.timed_out).toBe(true);
  });

  it('a token of several issues publishes into one of them, never to everyone', async () => {
    const two = await w.token('chief-architect', ['issue-a2', 'issue-b2']);
    const outsider = await w.token('chief-architect', ['issue-z2']);
    const u = w.sidecarUrl;
    const nameless = await call<{ error: { field: string } }>('POST', `${u}/api/events/secret_design`, { token: two, body: { topic: 'design', data: { secret: 1 } } });
    expect(nameless.status).toBe(400);
    expect(nameless.body.error.field).toBe('body.issue_id');
    // the topic names one of its issues (the seeds' convention): that issue
    const byTopic = await call<Ev>('POST', `${u}/api/events/secret_design`, { token: two, body: { topic: 'issue-a2', data: { secret: 2 } } });
    expect(byTopic.status).toBe(201);
    expect(byTopic.body.issue_id).toBe('issue-a2');
    const seen = await call<WaitBody>('GET', `${u}/api/events/wait/secret_design?timeout=0`, { token: outsider });
    expect(seen.body.events).toEqual([]);
  });

  it("takes the guide's curl as written: -d without a JSON Content-Type (curl sends a form type)", async () => {
    const tok = await w.token('test-engineer', ['issue-curl']);
    const { stdout } = await promisify(execFile)('curl', ['-sS', '-X', 'POST', `${w.sidecarUrl}/api/events/agent_completed`, '-H', `Authorization: Bearer ${tok}`, '-d', '{"topic": "testing", "issue_id": "issue-curl", "data": {"ok": true}}', '-w', '\n%{http_code}']);
    const [body, status] = [stdout.slice(0, stdout.lastIndexOf('\n')), stdout.slice(stdout.lastIndexOf('\n') + 1)];
    expect(status).toBe('201');
    expect(JSON.parse(body)).toMatchObject({ event_type: 'agent_completed', topic: 'testing', data: { ok: true } });
  });
});

describe('sidecar closing', () => {
  it('answers parked long-polls and ends open streams at once', async () => {
    const w = await startSidecarWorld();
    let closed = false;
    try {
      const tok = await w.token('python-specialist', '*');
      const u = w.sidecarUrl;
      const t0 = Date.now();
      // several parked waits and a stream, each registered for the sidecar's close
      const waits = Array.from({ length: 3 }, (_, i) => call<WaitBody>('GET', `${u}/api/events/wait/never_${i}?timeout=20000`, { token: tok }));
      const stream = await fetch(`${u}/api/events/stream/never?after=0`, { headers: { authorization: `Bearer ${tok}` } });
      expect(stream.status).toBe(200);
      const streamEnded = (async () => {
        const reader = stream.body?.getReader();
        for (;;) if ((await reader?.read())?.done !== false) return;
      })().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      const s = await call<{ events: { active_subscriptions: number } }>('GET', `${u}/status`);
      expect(s.body.events.active_subscriptions).toBe(4);
      await w.close();
      closed = true;
      // each wait is answered before its connection goes: a 503 saying the sidecar stops and to wait
      // again with the same cursor (an empty 200 that had not timed out read as nothing to do)
      for (const r of await Promise.all(waits)) expect(r).toMatchObject({ status: 503, body: { error: { code: 'shutting_down', message: expect.stringContaining('wait again with after=0') } } });
      await streamEnded;
      // ended by the close, not by their 20 s timeouts
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      if (!closed) await w.close();
    }
  });
});

describe('the lifetime of a wait or a stream', () => {
  it('is over at once for a client that left before it was asked for (during the wait\'s first read)', () => {
    const closing = new AbortController();
    const lifetime = lifetimes(closing.signal);
    const reply = (destroyed: boolean) => {
      const raw = new EventEmitter() as EventEmitter & { destroyed: boolean };
      raw.destroyed = destroyed;
      return { raw, request: { raw: { destroyed: false } } } as unknown as Parameters<typeof lifetime>[0];
    };
    // was: a listener for a 'close' that had already been emitted, and a wait parked for its timeout
    expect(lifetime(reply(true)).aborted).toBe(true);
    const live = reply(false);
    const ac = lifetime(live);
    expect(ac.aborted).toBe(false);
    live.raw.emit('close');
    expect(ac.aborted).toBe(true);
    const other = lifetime(reply(false));
    closing.abort();
    expect(other.aborted).toBe(true);
  });
});
