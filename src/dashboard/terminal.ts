import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type * as NodePty from 'node-pty';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isLoopback } from '../server/security.js';
import { requestHasToken } from './token-cookie.js';

export interface TerminalOptions {
  enabled: boolean;
  /** The address the daemon is bound to; the terminal only runs on loopback. */
  host: string;
  accessToken: string;
  shell: string;
  maxSessions: number;
  cwd?: string;
  env: Record<string, string | undefined>;
  logger: Logger;
}

/** What the browser sends: keystrokes and size changes. */
const clientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('input'), data: z.string().max(64 * 1024) }),
  z.object({ type: z.literal('resize'), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(500) }),
]);

interface PtyLike {
  onData(cb: (d: string) => void): unknown;
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): unknown;
  write(d: string): void;
  resize(c: number, r: number): void;
  kill(signal?: string): void;
}

/**
 * node-pty, loaded on the first terminal. Not `import()`: the daemon's bundle runs through a
 * vm.Script restored from a V8 code cache (cli/code-cache.ts), and on Node 20 functions restored
 * from the cache ignore `importModuleDynamically`, so a dynamic import there throws "A dynamic
 * import callback was not specified". node-pty is CommonJS, so `require` loads it everywhere.
 */
function loadPty(): typeof NodePty {
  return createRequire(import.meta.url)('node-pty') as typeof NodePty;
}

/** The shell starts in the user's home, or the daemon's directory when home does not exist. */
function startDir(opts: Pick<TerminalOptions, 'cwd' | 'env'>): string {
  const candidates = [opts.cwd, opts.env.HOME, homedir(), process.cwd()];
  return candidates.find((d): d is string => !!d && existsSync(d)) ?? '/';
}

/** Why the terminal is unavailable, or undefined when it may run. */
export function terminalRefusal(opts: Pick<TerminalOptions, 'enabled' | 'host'>): string | undefined {
  if (!opts.enabled) return 'The web terminal is off; set terminal_enabled = true under [dashboard] in daemon.toml and restart the daemon';
  if (!isLoopback(opts.host)) return `The web terminal only runs when the daemon is bound to loopback (it is bound to ${opts.host})`;
  return undefined;
}

/**
 * `GET /terminal` (WebSocket): a shell in a pseudo-terminal (node-pty) for the dashboard's
 * xterm.js view. Off unless `[dashboard] terminal_enabled`, only on loopback, always behind
 * the local access token, at most `maxSessions` at once; the shell dies with its socket.
 * Frames: client → `{type:"input",data}` | `{type:"resize",cols,rows}`;
 * server → `{type:"output",data}` | `{type:"exit",code}` | `{type:"error",message}`.
 */
export function registerTerminal(app: FastifyInstance, opts: TerminalOptions): { close(): void; count(): number } {
  const live = new Set<PtyLike>();
  app.get(
    '/terminal',
    {
      websocket: true,
      // Runs before the upgrade, so a refusal is a plain HTTP error the client can read.
      preValidation: async (req) => {
        if (!requestHasToken(req, opts.accessToken)) throw new AppError(401, 'unauthorized', 'The web terminal needs the access token; open the dashboard with `cco dashboard`');
        const why = terminalRefusal(opts);
        if (why) throw new AppError(403, 'terminal_disabled', why);
        if (live.size >= opts.maxSessions) throw new AppError(429, 'too_many_terminals', `At most ${opts.maxSessions} web terminals may be open; close one first`);
      },
    },
    async (socket: WebSocket) => {
      const send = (m: unknown): void => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
      };
      let term: PtyLike;
      try {
        const pty = loadPty();
        const shell = opts.shell || opts.env.SHELL || (process.platform === 'win32' ? 'cmd.exe' : '/bin/bash');
        term = pty.spawn(shell, [], {
          name: 'xterm-256color',
          cols: 100,
          rows: 30,
          cwd: startDir(opts),
          env: { ...opts.env, TERM: 'xterm-256color' } as Record<string, string>,
        });
      } catch (e) {
        send({ type: 'error', message: `Could not start a shell: ${(e as Error).message}` });
        socket.close(1011, 'shell failed');
        return;
      }
      live.add(term);
      opts.logger.info({ sessions: live.size }, 'web terminal opened');
      term.onData((d) => send({ type: 'output', data: d }));
      term.onExit(({ exitCode }) => {
        live.delete(term);
        send({ type: 'exit', code: exitCode });
        socket.close(1000, 'shell exited');
      });
      socket.on('message', (raw) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(String(raw));
        } catch {
          return send({ type: 'error', message: 'frames must be JSON: {"type":"input","data":"..."}' });
        }
        const f = clientFrame.safeParse(parsed);
        if (!f.success) return send({ type: 'error', message: `invalid frame: ${f.error.issues[0]?.message ?? 'unknown'}` });
        if (f.data.type === 'input') term.write(f.data.data);
        else term.resize(f.data.cols, f.data.rows);
      });
      socket.on('close', () => {
        if (live.delete(term)) {
          try {
            term.kill();
          } catch {
            // already gone
          }
          opts.logger.info({ sessions: live.size }, 'web terminal closed');
        }
      });
    },
  );
  return {
    count: () => live.size,
    close() {
      for (const t of live) {
        try {
          t.kill();
        } catch {
          // already gone
        }
      }
      live.clear();
    },
  };
}
