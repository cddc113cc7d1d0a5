import { describe, expect, it } from 'vitest';
import { buildClaudeSettings } from './claude-settings.js';

const base = { daemonUrl: 'http://127.0.0.1:3000', hooksEnabled: true, timeoutSeconds: 5, transport: 'http' as const, hookCommand: '/usr/bin/node /x/main.js hook', autoAllowRead: true, env: { ORCHESTRATOR_ENABLED: 'true' } };

describe('Claude Code settings', () => {
  it('posts hooks straight to the daemon, with tool matchers on tool events and a timeout in seconds', () => {
    const s = buildClaudeSettings(base) as { hooks: Record<string, { matcher?: string; hooks: { type: string; url?: string; command?: string; timeout: number }[] }[]> };
    expect(s.hooks.PreToolUse?.[0]).toEqual({ matcher: '*', hooks: [{ type: 'http', url: 'http://127.0.0.1:3000/api/hooks/PreToolUse', timeout: 5 }] });
    expect(s.hooks.Stop?.[0]?.matcher).toBeUndefined();
    expect(s.hooks.SubagentStop?.[0]?.hooks[0]?.type).toBe('http');
  });

  it('sends the access token as X-CCO-Token from each http hook when given one (a team-mode daemon wants it on every route)', () => {
    const s = buildClaudeSettings({ ...base, accessToken: 'tok-123' }) as { hooks: Record<string, { hooks: { type: string; headers?: Record<string, string> }[] }[]> };
    expect(s.hooks.PreToolUse?.[0]?.hooks[0]?.headers).toEqual({ 'X-CCO-Token': 'tok-123' });
    // the command form reads the token file itself: never on a command line (`ps` shows those)
    expect(JSON.stringify(s.hooks.SessionStart)).not.toContain('tok-123');
  });

  it('uses the command form where Claude Code does not run http hooks (SessionStart)', () => {
    const s = buildClaudeSettings(base) as { hooks: Record<string, { hooks: { type: string; command?: string }[] }[]> };
    expect(s.hooks.SessionStart?.[0]?.hooks[0]).toMatchObject({ type: 'command', command: '/usr/bin/node /x/main.js hook SessionStart' });
  });

  it('carries the environment and the read-only allow list, and no hooks when disabled', () => {
    const s = buildClaudeSettings({ ...base, hooksEnabled: false });
    expect(s).toMatchObject({ env: { ORCHESTRATOR_ENABLED: 'true' }, hooks: {}, permissions: { allow: expect.arrayContaining(['Read(./**)', 'mcp__cco']) } });
    expect(buildClaudeSettings({ ...base, autoAllowRead: false }).permissions).toEqual({ allow: ['mcp__cco'] });
  });

  it('allows reads only inside the session directory, and never the network tools', () => {
    const { allow } = buildClaudeSettings(base).permissions as { allow: string[] };
    // a bare rule allows the tool on any path (Claude Code then reads ~/.ssh/id_rsa without asking)
    for (const bare of ['Read', 'Glob', 'Grep', 'LS', 'NotebookRead', 'WebFetch', 'WebSearch']) expect(allow).not.toContain(bare);
    for (const rule of allow) expect(rule).not.toMatch(/^(Read|Glob|Grep|LS|NotebookRead)\((?!\.\/)/);
    expect(allow.some((r) => r.startsWith('WebFetch') || r.startsWith('WebSearch'))).toBe(false);
  });
});
