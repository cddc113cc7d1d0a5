import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { parseInput } from '../server/validate.js';
import type { WebSocket } from 'ws';
import type { Hub, HubMessage } from './hub.js';

/**
 * `GET /ws` (WebSocket): on connect, replays recent messages (after `?after=<seq>` when the
 * client resumes; with `?boot=`, first a `hello` frame naming this hub's boot, and `reset: true`
 * when the client's cursor was counted in another one), then streams live ones. Each frame is one JSON HubMessage. The client may
 * send `{"type":"filter","types":[...]}` to narrow what it receives. The access token is
 * checked by the security layer before the upgrade.
 */
/** `?token=` is the security layer's; `types` a comma-separated list of message types. */
const wsQuery = z
  .object({
    token: z.string().max(4096).optional(),
    after: z.coerce.number().int().min(0).optional(),
    /** The boot the client's `after` counts in ('' when it knows none): answered first with a `hello` frame. */
    boot: z.string().max(100).optional(),
    types: z.string().max(4000).optional(),
  })
  .strict();

export function registerHubWebSocket(app: FastifyInstance, hub: Hub, onCount?: (n: number) => void): void {
  let clients = 0;
  app.route({
    method: 'GET',
    url: '/ws',
    // a plain GET (a browser tab, curl): say what this endpoint is instead of an empty 404
    handler: async (req, reply) => {
      void reply.header('upgrade', 'websocket');
      const example = `new WebSocket("ws://${req.headers.host ?? '127.0.0.1:3000'}/ws?token=...")`;
      throw new AppError(426, 'upgrade_required', `GET /ws is a WebSocket endpoint: connect with a WebSocket client (headers Upgrade: websocket and Connection: Upgrade), e.g. ${example}`, { field: 'headers.upgrade' });
    },
    // checked before the upgrade: a bad query is an HTTP 400 naming the field, not a socket that dies
    preValidation: async (req) => {
      parseInput(wsQuery, req.query, 'query');
    },
    wsHandler: (socket: WebSocket, req) => {
      clients++;
      onCount?.(clients);
      const q = parseInput(wsQuery, req.query, 'query');
      // A cursor counted in another hub (a restart, another instance of a team) is no place
      // here: everything kept is replayed, and the hello says to start over.
      // (`boot=` given empty is read as not given by parseInput: asked for here, as the raw query has it)
      const hello = typeof (req.query as Record<string, unknown>).boot === 'string';
      const reset = q.boot !== undefined && q.boot !== hub.boot;
      const after = reset ? undefined : q.after;
      let types: string[] | undefined = q.types ? q.types.split(',') : undefined;
      const send = (m: HubMessage): void => {
        if (types && !types.includes(m.type)) return;
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
      };
      if (hello && socket.readyState === socket.OPEN) socket.send(JSON.stringify({ seq: 0, type: 'hello', ts: Date.now(), data: { boot: hub.boot, reset } }));
      for (const m of hub.recent(after !== undefined ? { afterSeq: after } : {})) send(m);
      const off = hub.subscribe(send);
      socket.on('message', (raw) => {
        try {
          const msg = JSON.parse(String(raw)) as { type?: string; types?: unknown };
          if (msg.type === 'filter') types = Array.isArray(msg.types) ? msg.types.map(String) : undefined;
          if (msg.type === 'ping') socket.send(JSON.stringify({ seq: hub.lastSeq, type: 'pong', ts: Date.now(), data: null }));
        } catch {
          // ignore frames that are not JSON
        }
      });
      socket.on('close', () => {
        off();
        clients--;
        onCount?.(clients);
      });
    },
  });
}
