import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatchRequest } from './body.js';

let server: Server;
let origin: string;
let agent: Agent;
let handler: (req: IncomingMessage, res: ServerResponse) => void;
const sockets = new Set<Socket>();

beforeEach(async () => {
  server = createServer((req, res) => handler(req, res));
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent({ connections: 4 });
});

afterEach(async () => {
  await agent.close().catch(() => undefined);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise((r) => server.close(r));
});

const get = (signal = new AbortController().signal) => dispatchRequest(agent, { origin, path: '/', method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 }, signal);

/** Resolves when the server side of the request's connection closes before the response ended. */
const closedEarly = (res: ServerResponse) => new Promise<boolean>((r) => res.on('close', () => r(!res.writableFinished)));

describe('dispatchRequest', () => {
  it('gives status, headers and the chunks in order as they arrive', async () => {
    handler = async (_req, res) => {
      res.writeHead(201, { 'content-type': 'text/event-stream', 'x-a': 'b' });
      for (const c of ['one ', 'two ', 'three']) {
        res.write(c);
        await sleep(10);
      }
      res.end();
    };
    const r = await get();
    expect(r.status).toBe(201);
    expect(r.headers['x-a']).toBe('b');
    const seen: string[] = [];
    for await (const c of r.body) seen.push(c.toString());
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.join('')).toBe('one two three');
  });

  it('reads a whole body with bytes()', async () => {
    handler = (_req, res) => {
      res.write('é'.repeat(50_000));
      res.end('!');
    };
    const a = await get();
    expect((await a.body.bytes()).toString()).toBe('é'.repeat(50_000) + '!');
    const b = await get();
    expect((await b.body.bytes()).toString()).toBe('é'.repeat(50_000) + '!');
  });

  it('pauses the socket while the reader is behind, and loses nothing', async () => {
    const block = Buffer.alloc(16 * 1024, 'x');
    handler = (_req, res) => {
      let n = 0;
      const more = () => {
        while (n < 256) {
          n++;
          if (!res.write(block)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    };
    const r = await get();
    let total = 0;
    let pausedSeen = false;
    let first = true;
    for await (const c of r.body) {
      total += c.length;
      if (first) {
        first = false;
        // While this reader sleeps, the upstream keeps sending until the body holds 64 KB.
        await sleep(100);
        pausedSeen = r.body.controller?.paused === true;
        expect((r.body as unknown as { queued: number }).queued).toBeLessThan(64 * 1024 + 128 * 1024);
      }
    }
    expect(pausedSeen).toBe(true);
    expect(total).toBe(256 * block.length);
  });

  it('closes the upstream connection when the reader stops early', async () => {
    let closed!: Promise<boolean>;
    handler = (_req, res) => {
      closed = closedEarly(res);
      res.write('first');
      const t = setInterval(() => res.write('more'), 5);
      res.on('close', () => clearInterval(t));
    };
    const r = await get();
    for await (const c of r.body) {
      expect(c.toString()).toContain('first');
      break;
    }
    expect(await closed).toBe(true);
  });

  it('rejects with the signal reason when aborted before the headers, and the upstream sees it', async () => {
    let closed!: Promise<boolean>;
    handler = (_req, res) => {
      closed = closedEarly(res);
    };
    const ac = new AbortController();
    const p = get(ac.signal);
    await sleep(50);
    ac.abort(new Error('client went away'));
    await expect(p).rejects.toThrow('client went away');
    expect(await closed).toBe(true);
  });

  it('rejects at once for a signal already aborted', async () => {
    handler = () => expect.unreachable('no request should be sent');
    const ac = new AbortController();
    ac.abort(new Error('already'));
    await expect(get(ac.signal)).rejects.toThrow('already');
  });

  it('fails the body with the signal reason when aborted mid-body', async () => {
    handler = (_req, res) => {
      res.write('start');
    };
    const ac = new AbortController();
    const r = await get(ac.signal);
    const read = (async () => {
      for await (const _ of r.body) ac.abort(new Error('killed'));
    })();
    await expect(read).rejects.toThrow('killed');
  });

  it('fails the body when the connection is cut mid-body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const r = await get();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of r.body) seen.push(c.toString());
      })(),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^UND_ERR/) });
    expect(seen.join('')).toBe('only part');
  });

  it('dump() reads the rest so the connection serves the next request', async () => {
    let n = 0;
    handler = async (_req, res) => {
      n++;
      if (n > 1) return void res.end('ok');
      // An error body that is still arriving when the gateway gives up on it.
      res.writeHead(529, { 'content-length': '10000' });
      for (let i = 0; i < 10; i++) {
        res.write('x'.repeat(1000));
        await sleep(5);
      }
      res.end();
    };
    const a = await get();
    expect(a.status).toBe(529);
    await a.body.dump();
    await sleep(20);
    const b = await get();
    expect((await b.body.bytes()).toString()).toBe('ok');
    // One keep-alive connection served both.
    expect(sockets.size).toBe(1);
  });

  it('refuses a second reader while one waits, instead of leaving the first waiting', async () => {
    handler = (_req, res) => {
      res.write('a');
      setTimeout(() => res.end('b'), 50);
    };
    const r = await get();
    const first = r.body.bytes().then(String);
    await sleep(10);
    await expect(r.body.bytes()).rejects.toThrow('read once');
    expect(await first).toBe('ab');
  });

  it('answers the route timeout with undici\'s headers-timeout error', async () => {
    handler = () => undefined;
    const p = dispatchRequest(agent, { origin, path: '/', method: 'GET', headersTimeout: 50, bodyTimeout: 50 }, new AbortController().signal);
    await expect(p).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
  });
});
