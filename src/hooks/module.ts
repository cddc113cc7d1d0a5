import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { withTimeout } from '../core/timeout.js';
import { redact } from '../core/redact.js';
import { HookEventsRepo } from '../store/repos/hook-events.js';
import { RetentionTimer } from '../store/retention.js';
import type { DaemonModule, ModuleContext } from '../server/module.js';
import { parseInput } from '../server/validate.js';
import { decide, preToolUseOutput } from './decision.js';
import { isHookEvent, storedPayload } from './events.js';
import { HookRecords } from './records.js';
import { SessionTracker } from './sessions.js';

/** Hook input as Claude Code posts it; only what we index is checked, the rest is kept. */
const hookBody = z
  .object({
    session_id: z.string().max(200).optional(),
    hook_event_name: z.string().max(100).optional(),
    tool_name: z.string().max(300).optional(),
    tool_use_id: z.string().max(300).optional(),
    cwd: z.string().max(4096).optional(),
    agent_id: z.string().max(300).optional(),
    agent_type: z.string().max(300).optional(),
  })
  .passthrough();

const eventsQuery = z
  .object({
    session: z.string().max(200).optional(),
    event: z.string().max(100).optional(),
    after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .strict();

/**
 * Receives Claude Code's hooks (`POST /api/hooks/:event`, from `http` hooks or `cco hook`),
 * records each event durably, pushes it live, and answers PreToolUse with the permission
 * decision. Sessions and subagents seen through hooks are listed at `GET /api/sessions`.
 */
export async function createHooksModule(ctx: ModuleContext): Promise<DaemonModule> {
  const repo = new HookEventsRepo(ctx.store);
  const sessions = new SessionTracker();
  // recorded events older than [hooks] retention_days go, at start and hourly
  const retention = new RetentionTimer([{ name: 'hook_events', days: ctx.config.hooks.retention_days, prune: (before, o) => repo.prune(before, o) }], { logger: ctx.logger });
  const records = new HookRecords(ctx.logger);
  /** Before the daemon listens: every event received from here on is observed live. */
  const createdAt = Date.now();
  const flags = () => ({
    autoAllowRead: ctx.config.hooks.auto_allow_read,
    requireCudConfirmation: ctx.config.hooks.require_cud_confirmation,
  });
  return {
    name: 'hooks',
    register(app) {
      app.post('/api/hooks/:event', { bodyLimit: 8 * 1024 * 1024 }, async (req) => {
        const { event } = parseInput(z.object({ event: z.string() }), req.params, 'params');
        if (!isHookEvent(event)) throw new AppError(400, 'unknown_hook_event', `Unknown hook event ${event}`, { field: 'params.event' });
        const body = parseInput(hookBody, req.body ?? {}, 'body');
        const d = event === 'PreToolUse' && body.tool_name ? decide(body.tool_name, flags(), { cwd: body.cwd, toolInput: body.tool_input }) : undefined;
        // masked first (a cut must not leave half a key unrecognised), then bounded: a 1 MB tool_response is stored as 64 KB
        const payload = storedPayload(redact(body, 0, { fileText: true }));
        const views = sessions.observe(event, body);
        for (const view of views) ctx.hub.publish('agent_activity', view);
        const announce = (id: number) => ctx.hub.publish('hook_event', { id, event, session_id: body.session_id, tool_name: body.tool_name, agent_id: body.agent_id, agent_type: body.agent_type, decision: d?.decision });
        await records.add(event, () => repo.insert({
          received_at: Date.now(),
          event,
          session_id: body.session_id ?? null,
          tool_name: body.tool_name ?? null,
          tool_use_id: body.tool_use_id ?? null,
          agent_id: body.agent_id ?? null,
          agent_type: body.agent_type ?? null,
          cwd: body.cwd ?? null,
          decision: d?.decision ?? null,
          payload: JSON.stringify(payload),
        }), announce);
        return event === 'PreToolUse' ? preToolUseOutput(d) : {};
      });
      // paged as the sidecar's events are: oldest first after `after`; the answer's `cursor` is
      // the `after` of the next page
      app.get('/api/hooks/events', async (req) => {
        const q = parseInput(eventsQuery, req.query, 'query');
        const rows = await repo.list({ ...(q.session ? { sessionId: q.session } : {}), ...(q.event ? { event: q.event } : {}), afterId: q.after, limit: q.limit });
        const cursor = rows.length ? Number(rows[rows.length - 1]?.id) : q.after;
        return { events: rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as unknown })), cursor };
      });
      app.get('/api/sessions', async () => ({ live: sessions.list(), recent: await repo.sessions() }));
    },
    health: () => ({ status: 'ok', live_sessions: sessions.list().length, ...records.health() }),
    async start() {
      retention.start();
      // The sessions of the last hours as the recorded events left them: the live view is in
      // memory, and a restart had emptied every session card (its counters starting over at 0).
      // Only what came before this daemon listened: events of sessions that went on across the
      // restart, posted as soon as it listened, were observed live already (counted twice).
      const since = Date.now() - REPLAY_HOURS * 3_600_000;
      const recent = await repo.recent(since, REPLAY_EVENTS, createdAt).catch((e: unknown) => {
        ctx.logger.warn({ err: (e as Error).message }, 'recent hook events not read: the session cards start empty');
        return [];
      });
      for (const r of recent) {
        const fields = { ...(r.session_id ? { session_id: r.session_id } : {}), ...(r.tool_name ? { tool_name: r.tool_name } : {}), ...(r.agent_id ? { agent_id: r.agent_id } : {}), ...(r.agent_type ? { agent_type: r.agent_type } : {}), ...(r.cwd ? { cwd: r.cwd } : {}) };
        sessions.observe(r.event, fields, Number(r.received_at));
      }
    },
    async close() {
      retention.stop();
      // the writes still running finish, for a while (a database that stays away must not hold the stop)
      await withTimeout(records.settled(), 5000, 'the hook events still being recorded').catch(() => undefined);
    },
  };
}

/** What a start replays of the recorded hook events into the live session view: the last hours, the newest events at most. */
const REPLAY_HOURS = 6;
const REPLAY_EVENTS = 5000;
