import { HOOK_EVENTS, TOOL_EVENTS } from '../hooks/events.js';

export type HookTransport = 'http' | 'command';

export interface ClaudeSettingsInput {
  /** Daemon base URL the hooks report to. */
  daemonUrl: string;
  hooksEnabled: boolean;
  timeoutSeconds: number;
  /** `http`: Claude Code posts straight to the daemon (no process per event). `command`: `cco hook <event>`. */
  transport: HookTransport;
  /** The command form's executable (absolute node + cco main). */
  hookCommand: string;
  autoAllowRead: boolean;
  env: Record<string, string>;
  /**
   * The daemon's access token, sent by the `http` hooks as X-CCO-Token. Beyond loopback (team
   * mode) every route wants a credential, and hooks without one were all refused with a 401.
   * (The file is 0600, as the MCP config holding the same token is; a header value, not an `env`
   * entry, so the token does not reach every command Claude Code runs.)
   */
  accessToken?: string;
}

/** Events for which Claude Code refuses `http` hooks (it skips them): these use the command form. */
const HTTP_UNSUPPORTED: ReadonlySet<string> = new Set(['SessionStart', 'Setup']);

/**
 * Read-only tools pre-allowed when ORCHESTRATOR_AUTO_ALLOW_READ is on. Reads are scoped to the
 * session's directory (`./` is Claude Code's cwd): a bare `Read` would let the model read
 * ~/.ssh without asking. Claude Code applies Read rules to Glob, Grep and LS too, so bare rules
 * for those would reopen the same hole. WebFetch/WebSearch are never pre-allowed.
 */
const READ_ALLOW = ['Read(./**)', 'TodoWrite'];

/**
 * The Claude Code settings JSON handed to `claude --settings`: hooks that report every
 * event to the daemon, the orchestration environment, and the read-only permission rules.
 */
export function buildClaudeSettings(input: ClaudeSettingsInput): Record<string, unknown> {
  const hooks: Record<string, unknown[]> = {};
  if (input.hooksEnabled) {
    for (const event of HOOK_EVENTS) {
      const handler =
        input.transport === 'http' && !HTTP_UNSUPPORTED.has(event)
          ? { type: 'http', url: `${input.daemonUrl}/api/hooks/${event}`, timeout: input.timeoutSeconds, ...(input.accessToken ? { headers: { 'X-CCO-Token': input.accessToken } } : {}) }
          : { type: 'command', command: `${input.hookCommand} ${event}`, timeout: input.timeoutSeconds };
      hooks[event] = [TOOL_EVENTS.includes(event) ? { matcher: '*', hooks: [handler] } : { hooks: [handler] }];
    }
  }
  return {
    env: input.env,
    hooks,
    // The daemon's own MCP tools (get_context, store_result, publish_event ...) are always allowed.
    permissions: { allow: [...(input.autoAllowRead ? READ_ALLOW : []), 'mcp__cco'] },
  };
}
