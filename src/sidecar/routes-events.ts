import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { parseInput, parseQuery } from '../server/validate.js';
import type { EventQuery, StoredEvent } from './events-repo.js';
import { agentIdSchema, eventTypeSchema, issueIdSchema, topicSchema } from './ids.js';
import type { SidecarDeps } from './server.js';
import { assertScope } from './tokens.js';
import type { AgentClaims } from './tokens.js';
import { RequestAbort } from '../core/abort.js';
import type { AbortLike } from '../core/abort.js';

const publishBody = z
  .object({
    publisher: agentIdSchema.optional(),
    topic: topicSchema.optional(),
    issue_id: issueIdSchema.optional(),
    data: z.unknown().optional(),
  })
  .strict();
const publishWithType = publishBody.extend({ event_type: eventTypeSchema }).strict();

// schemas are built once: creating a zod schema costs far more than using it
const typeParam = z.object({ eventType: z.union([z.literal('*'), eventTypeSchema]) });
const publishParams = z.object({ eventType: eventTypeSchema });
const cursor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const filterSchema = z.string().max(1000).optional();
const limitSchema = z.coerce.number().int().min(1).max(1000).default(100);
// strict: a parameter the route does not take (`?topic=X` for `filter=topic:X`, `offset`) is a
// 400 naming it, not ignored (a wait that returned any event, the same page again)
const streamQuery = z.object({ filter: filterSchema, after: cursor.optional() }).strict();
const listQuery = z.object({ event_type: z.union([z.literal('*'), eventTypeSchema]).default('*'), filter: filterSchema, after: cursor.default(0), limit: limitSchema }).strict();

/** Whether an agent may name itself `publisher`: its own id, its type, or `<type>-…`. */
function publishesAs(agent: { agentId: string; agentType: string }, publisher: string): boolean {
  return publisher === agent.agentId || publisher === agent.agentType || publisher.startsWith(`${agent.agentType}-`);
}

/** `filter=topic:X[,publisher:Y][,issue:Z]` → the matching fields. */
function parseFilter(s: string | undefined): Pick<EventQuery, 'topic' | 'publisher' | 'issueId'> {
  const out: Pick<EventQuery, 'topic' | 'publisher' | 'issueId'> = {};
  if (!s) return out;
  const seen = new Set<string>();
  for (const part of s.split(',')) {
    const i = part.indexOf(':');
    const key = i > 0 ? part.slice(0, i).trim() : '';
    const value = i > 0 ? part.slice(i + 1).trim() : '';
    if (!value) throw new AppError(400, 'invalid_request', `query.filter: "${part}" is not key:value (topic:X, publisher:Y or issue:Z)`, { field: 'query.filter' });
    const name = key === 'issue_id' ? 'issue' : key;
    // one value per key: a second one replaced the first without a word
    if (seen.has(name)) throw new AppError(400, 'invalid_request', `query.filter: "${name}" is given twice; a filter matches one value per key`, { field: 'query.filter' });
    seen.add(name);
    if (key === 'topic') out.topic = value;
    else if (key === 'publisher') out.publisher = value;
    else if (key === 'issue' || key === 'issue_id') {
      if (!issueIdSchema.safeParse(value).success) throw new AppError(400, 'invalid_request', `query.filter: "${value}" is not an issue id`, { field: 'query.filter' });
      out.issueId = value;
    } else throw new AppError(400, 'invalid_request', `query.filter: unknown key "${key}" (use topic, publisher or issue)`, { field: 'query.filter' });
  }
  return out;
}

function queryOf(agent: AgentClaims, eventType: string, filter: string | undefined): EventQuery {
  const f = parseFilter(filter);
  if (f.issueId) assertScope(agent, f.issueId);
  return { eventType, ...f, issues: agent.issues };
}

/** What a client sees of an event. */
function view(e: StoredEvent): Record<string, unknown> {
  return { id: e.id, cursor: e.id, event_type: e.event_type, topic: e.topic, publisher: e.publisher, issue_id: e.issue_id, data: e.data, timestamp: new Date(e.created_at).toISOString() };
}

/**
 * The cancellations of the long-lived requests (waits, streams): each fires when its client goes
 * away or the sidecar closes. A `RequestAbort` each, not an AbortController: a parked wait is a
 * quarter of the agents' loop, and an AbortController's signal and its first listener cost ~5 µs.
 *
 * Not a listener per request on the `closing` signal (nor AbortSignal.any, which adds one): Node's
 * EventTarget keeps its listeners in a linked list, and a removed listener keeps its `next`. Once
 * a removed one has been promoted to the old generation, it holds the next request's listener,
 * and through it that request's objects, alive at every scavenge: each is promoted in turn, a
 * chain that only a mark-compact breaks. A Set drops its entries for good.
 */
export function lifetimes(closing: AbortSignal): (reply: FastifyReply) => AbortLike {
  const open = new Set<RequestAbort>();
  closing.addEventListener('abort', () => {
    for (const ac of open) ac.abort(ENDED);
    open.clear();
  }, { once: true });
  return (reply) => {
    const ac = new RequestAbort();
    // a client that left while the wait's first read ran: its 'close' has been and gone (the wait
    // stayed parked for its whole timeout, woken and reading again at every publish)
    if (closing.aborted || reply.raw.destroyed || reply.request.raw.destroyed) {
      ac.abort(ENDED);
      return ac;
    }
    open.add(ac);
    reply.raw.once('close', () => {
      open.delete(ac);
      ac.abort(ENDED);
    });
    return ac;
  };
}

const ENDED = Object.freeze({ name: 'AbortError', message: 'client gone or sidecar closing' });

/** Publish, long-poll wait, SSE stream and list of events. */
export function registerEventRoutes(app: FastifyInstance, deps: SidecarDeps): void {
  const lifetime = lifetimes(deps.closing);
  // not .strict(): a hot route, its keys are checked by parseQuery
  const waitQuery = z.object({ filter: filterSchema, after: cursor.default(0), timeout: z.coerce.number().int().min(0).max(deps.config.wait_max_ms).default(30_000), limit: limitSchema });
  const waitKeys = new Set(Object.keys(waitQuery.shape));
  const publish = async (req: FastifyRequest, reply: FastifyReply, eventType: string, body: z.infer<typeof publishBody>) => {
    const dataIssue = (body.data as { issue_id?: unknown } | undefined)?.issue_id;
    let issueId = body.issue_id ?? (typeof dataIssue === 'string' && issueIdSchema.safeParse(dataIssue).success ? dataIssue : undefined);
    const scope = req.sidecarAgent.issues;
    if (!issueId && Array.isArray(scope)) {
      // A scoped token's events belong to one of its issues: its only one, or the one its topic
      // names (the seeds' topics are issue ids). An event without an issue is seen by every
      // scope, so a token of several issues could otherwise publish to all of them.
      if (scope.length === 1) issueId = scope[0];
      else if (body.topic !== undefined && scope.includes(body.topic)) issueId = body.topic;
      else throw new AppError(400, 'invalid_request', `body.issue_id: required for a token scoped to several issues (${scope.join(', ')})`, { field: 'body.issue_id' });
    }
    if (issueId) assertScope(req.sidecarAgent, issueId);
    // A scoped token publishes as its own role: its id, its type (the catalog's prompts name the
    // type) or a name of that type (the seeds' "python-specialist-123"); never as another role,
    // whose `publisher:` waiters would wake on it.
    const me = req.sidecarAgent;
    if (Array.isArray(me.issues) && body.publisher !== undefined && !publishesAs(me, body.publisher)) {
      throw new AppError(403, 'forbidden', `body.publisher: this token belongs to ${me.agentId}, a ${me.agentType} agent; publish as "${me.agentType}" (or a name starting "${me.agentType}-") or leave publisher out`, { field: 'body.publisher' });
    }
    const ev = await deps.bus.publish({
      event_type: eventType,
      topic: body.topic ?? null,
      publisher: body.publisher ?? req.sidecarAgent.agentId,
      agent_id: req.sidecarAgent.agentId,
      issue_id: issueId ?? null,
      data: body.data ?? null,
    });
    deps.hub.publish('event_published', { id: ev.id, event_type: ev.event_type, topic: ev.topic, publisher: ev.publisher, issue_id: ev.issue_id });
    return reply.status(201).send({ status: 'published', ...view(ev) });
  };
  app.post('/api/events/:eventType', async (req, reply) => {
    const { eventType } = parseInput(publishParams, req.params, 'params');
    return publish(req, reply, eventType, parseInput(publishBody, req.body ?? {}, 'body'));
  });
  // The seeds' short form (`POST /api/events/publish`): the type in the body. "publish" is
  // therefore not an event type of its own.
  app.post('/api/events/publish', async (req, reply) => {
    const { event_type, ...body } = parseInput(publishWithType, req.body ?? {}, 'body');
    return publish(req, reply, event_type, body);
  });

  const wait = async (req: FastifyRequest, reply: FastifyReply, eventType: string) => {
    const q = parseQuery(waitQuery, waitKeys, req.query);
    const query = queryOf(req.sidecarAgent, eventType, q.filter);
    // HEAD (a health probe, `curl -I`): a GET's headers, without parking for the timeout
    if (req.method === 'HEAD') return { events: [], cursor: q.after, timed_out: false, waited_ms: 0 };
    const started = Date.now();
    // the client-gone signal is only built when the wait has to park
    const ready = await deps.bus.read(query, q.after, q.limit);
    const r = ready.length
      ? { events: ready, cursor: (ready[ready.length - 1] as StoredEvent).id, timed_out: false }
      : await deps.bus.park(query, q.after, q.timeout, { limit: q.limit, signal: lifetime(reply) });
    // ended by a stop (a restart): said so, where an empty answer that had not timed out read as
    // nothing to do; the same cursor goes on once the sidecar is back
    if (r.events.length === 0 && !r.timed_out && deps.closing.aborted) {
      throw new AppError(503, 'shutting_down', `the sidecar is stopping (a daemon stop or restart): wait again with after=${q.after} once it answers`);
    }
    // A cursor past the newest event comes from another store (analytics.db deleted or replaced,
    // as the seed's "Database locked" advice does): waiting on it would time out for ever while
    // new events, numbered from 1 again, went by. Checked on a timeout only, off the hot path.
    if (r.timed_out && q.after > 0) {
      const newest = await deps.bus.newestId();
      if (newest < q.after) {
        throw new AppError(409, 'cursor_ahead', `query.after: cursor ${q.after} is past the newest event (${newest}): the event store was reset since it was given (e.g. analytics.db deleted); wait again with after=${newest}`, { field: 'query.after' });
      }
    }
    if (r.events.length) {
      deps.hub.publish('agent_activity', { action: 'event_received', agent_id: req.sidecarAgent.agentId, agent_type: req.sidecarAgent.agentType, event_type: eventType, count: r.events.length, waited_ms: Date.now() - started });
    }
    return { events: r.events.map(view), cursor: r.cursor, timed_out: r.timed_out, waited_ms: Date.now() - started };
  };
  app.get('/api/events/wait/:eventType', async (req, reply) => wait(req, reply, parseInput(typeParam, req.params, 'params').eventType));
  // the seeds' short form: any type
  app.get('/api/events/wait', async (req, reply) => wait(req, reply, '*'));

  app.get('/api/events/stream/:eventType', async (req, reply) => {
    const { eventType } = parseInput(typeParam, req.params, 'params');
    const q = parseInput(streamQuery, req.query, 'query');
    const lastId = req.headers['last-event-id'];
    // EventSource reconnects to the same URL with Last-Event-ID: the later of the two is where to go on
    const resumeAt = typeof lastId === 'string' && lastId.trim() !== '' ? cursor.safeParse(lastId.trim()) : undefined;
    if (resumeAt && !resumeAt.success) throw new AppError(400, 'invalid_request', `headers.last-event-id: ${JSON.stringify(String(lastId).slice(0, 40))} is not an event cursor (a whole number from 0 to ${Number.MAX_SAFE_INTEGER})`, { field: 'headers.last-event-id' });
    const after = Math.max(q.after ?? 0, resumeAt?.data ?? 0);
    // a cursor from another store (analytics.db deleted or replaced): the stream would stay silent
    // while new events, numbered from 1 again, went by (the long-poll's 409, at once)
    if (after > 0) {
      const newest = await deps.bus.newestId();
      if (newest < after) throw new AppError(409, 'cursor_ahead', `cursor ${after} is past the newest event (${newest}): the event store was reset since it was given (e.g. analytics.db deleted); subscribe again with after=${newest}`, { field: resumeAt?.success && resumeAt.data === after ? 'headers.last-event-id' : 'query.after' });
    }
    const query = queryOf(req.sidecarAgent, eventType, q.filter);
    // HEAD: the stream's headers, and done (Node sends no body for HEAD: a subscription would only hold the connection)
    if (req.method === 'HEAD') return reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').send();
    const signal = lifetime(reply);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`: subscribed to ${eventType} after ${after}\n\n`);
    const off = deps.bus.subscribe(
      query,
      after,
      (events) => {
        let full = false;
        for (const e of events) full = !res.write(`id: ${e.id}\nevent: ${e.event_type}\ndata: ${JSON.stringify(view(e))}\n\n`);
        // A reader that is behind: the next events are read from the store once it has taken
        // these (held in memory meanwhile, they grew without bound).
        if (full && !res.destroyed) return new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      },
      () => res.end(),
    );
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    // the token is checked once, at connect: the stream ends when it expires (events kept coming
    // to an agent whose every other call answered 401); EventSource reconnects with a new one
    const expiresIn = req.sidecarAgent.exp * 1000 - Date.now();
    const expiry = setTimeout(() => {
      if (!res.writableEnded) res.write(`event: error\ndata: ${JSON.stringify({ error: { code: 'token_expired', message: 'the token of this stream expired: subscribe again with a new one (Last-Event-ID goes on where it ended)' } })}\n\n`);
      stop();
    }, Math.min(Math.max(expiresIn, 0), 2 ** 31 - 1));
    const stop = (): void => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      off();
      if (!res.writableEnded) res.end();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    return reply;
  });

  app.get('/api/events', async (req) => {
    const q = parseInput(listQuery, req.query, 'query');
    const events = await deps.bus.read(queryOf(req.sidecarAgent, q.event_type, q.filter), q.after, q.limit);
    return { events: events.map(view), cursor: events.length ? (events[events.length - 1] as StoredEvent).id : q.after };
  });
}
