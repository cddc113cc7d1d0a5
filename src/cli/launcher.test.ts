import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { processIdentity } from '../core/process-alive.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { main, mergeSettings, readUserSettings, staleDaemonWarning, takeUserSettings } from './launcher.js';

/**
 * A stand-in `claude` that records what it was given: its arguments, the content of each
 * `--settings` file (as Claude Code would read it: the last one wins) and CCO_MCP_PROJECT_ROOT.
 */
function fakeClaude(dir: string): { bin: string; out: string } {
  const out = join(dir, 'claude-out');
  mkdirSync(out, { recursive: true });
  const bin = join(dir, 'claude');
  writeFileSync(
    bin,
    `#!/bin/sh\n: > "${out}/args"\nprev=\nfor a in "$@"; do echo "$a" >> "${out}/args"; if [ "$prev" = --settings ]; then cp "$a" "${out}/settings.json"; fi; prev="$a"; done\nprintf '%s' "$CCO_MCP_PROJECT_ROOT" > "${out}/mcp-root"\nprintf '%s|%s|%s' "$NO_PROXY" "$no_proxy" "$CCO_LAUNCH_DEPTH" > "${out}/proxy-env"\n`,
    { mode: 0o755 },
  );
  return { bin, out };
}

/** Runs the launcher in this process with `env` added and `cwd` as the working directory; its stderr is returned. */
async function launch(args: string[], env: Record<string, string | undefined>, cwd: string): Promise<{ code: number; stderr: string }> {
  const saved = { ...process.env };
  const savedCwd = process.cwd();
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    for (const k of ['ANTHROPIC_BASE_URL', 'CCO_ANTHROPIC_BASE_URL', 'CCO_USE_GATEWAY', 'CCO_PORT', 'ORCHESTRATOR_PORT', 'CCO_HOST']) delete process.env[k];
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    process.chdir(cwd);
    const code = await main(args);
    return { code, stderr };
  } finally {
    spy.mockRestore();
    process.chdir(savedCwd);
    // restored in place: process.env stays Node's own object
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('the user’s own --settings', () => {
  it('takes --settings X and --settings=X (the last, as Claude Code does), never after --', () => {
    expect(takeUserSettings(['-p', 'x', '--settings', 'a.json', '--model', 'm'])).toEqual({ value: 'a.json', rest: ['-p', 'x', '--model', 'm'] });
    expect(takeUserSettings(['--settings={"a":1}', '--settings=b.json', '-p'])).toEqual({ value: 'b.json', rest: ['-p'] });
    expect(takeUserSettings(['-p', 'x', '--', '--settings', 'y'])).toEqual({ value: undefined, rest: ['-p', 'x', '--', '--settings', 'y'] });
    // no value: left for Claude Code to report
    expect(takeUserSettings(['--settings'])).toEqual({ value: undefined, rest: ['--settings'] });
  });

  it('merges as Claude Code layers settings: hook entries joined per event, objects by key, the user’s values kept', () => {
    const cco = { env: { ORCHESTRATOR_ENABLED: 'true', SHARED: 'cco' }, hooks: { UserPromptSubmit: [{ hooks: [{ type: 'http', url: 'u' }] }], Stop: [{ hooks: [] }] }, permissions: { allow: ['Read', 'mcp__cco'] } };
    const mine: unknown = JSON.parse(
      '{"env":{"SHARED":"mine"},"hooks":{"UserPromptSubmit":[{"hooks":[{"type":"command","command":"echo mine"}]}]},"permissions":{"allow":["Read","Bash(ls)"],"deny":["WebFetch"]},"model":"opus","__proto__":{"polluted":true}}',
    );
    const merged = mergeSettings(cco, mine) as { env: unknown; hooks: Record<string, unknown>; permissions: unknown; model: unknown; polluted?: unknown };
    expect(merged.env).toEqual({ ORCHESTRATOR_ENABLED: 'true', SHARED: 'mine' });
    expect(merged.hooks.UserPromptSubmit).toEqual([{ hooks: [{ type: 'http', url: 'u' }] }, { hooks: [{ type: 'command', command: 'echo mine' }] }]);
    expect(merged.hooks.Stop).toEqual([{ hooks: [] }]);
    expect(merged.permissions).toEqual({ allow: ['Read', 'mcp__cco', 'Bash(ls)'], deny: ['WebFetch'] });
    expect(merged.model).toBe('opus');
    // the user's "__proto__" stays a plain key, never the merged object's prototype
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged.polluted).toBeUndefined();
  });

  it('refuses a value of another kind where CCO has a list or an object (it would drop CCO\'s hooks or permissions)', () => {
    const cco = { hooks: { Stop: [{ hooks: [] }] }, permissions: { allow: ['mcp__cco'] }, model: 'x' };
    expect(() => mergeSettings(cco, { hooks: null })).toThrow(/sets `hooks` to null, where CCO's settings have an object/);
    expect(() => mergeSettings(cco, { permissions: { allow: null } })).toThrow(/sets `permissions.allow` to null, where CCO's settings have a list/);
    expect(() => mergeSettings(cco, { hooks: { Stop: 'x' } })).toThrow(/`hooks.Stop`/);
    // a scalar of CCO's may be replaced
    expect(mergeSettings(cco, { model: null })).toMatchObject({ model: null });
  });

  it('reads inline JSON or a file relative to the working directory, and refuses what it cannot read', () => {
    const w = tempCcoEnv();
    try {
      writeFileSync(join(w.root, 'mine.json'), '{"model":"x"}');
      expect(readUserSettings(' {"a":1} ', w.root)).toEqual({ settings: { a: 1 }, source: 'inline JSON' });
      expect(readUserSettings('mine.json', w.root)).toEqual({ settings: { model: 'x' }, source: join(w.root, 'mine.json') });
      expect(readUserSettings('missing.json', w.root)).toMatch(/Could not read your --settings \(.*missing\.json\): file not found/);
      writeFileSync(join(w.root, 'bad.json'), '{"model":');
      expect(readUserSettings('bad.json', w.root)).toMatch(/Could not read your --settings .*bad\.json/);
      writeFileSync(join(w.root, 'list.json'), '[1]');
      expect(readUserSettings('list.json', w.root)).toMatch(/not a JSON object/);
    } finally {
      w.cleanup();
    }
  });
});

describe('launching against a running daemon', () => {
  let d: TestDaemon;
  let claude: ReturnType<typeof fakeClaude>;
  let project: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    d = await startTestDaemon();
    claude = fakeClaude(join(d.env.CCO_HOME as string, '..'));
    project = join(d.env.CCO_HOME as string, '..', 'project');
    mkdirSync(project, { recursive: true });
    env = { ...d.env, CCO_PORT: new URL(d.url).port, CCO_CLAUDE_BIN: claude.bin };
  });
  afterAll(async () => {
    await d.cleanup();
  });

  const sessionSettings = () => JSON.parse(readFileSync(join(claude.out, 'settings.json'), 'utf8')) as { hooks: Record<string, { hooks: { type: string; command?: string }[] }[]>; env: Record<string, string>; permissions: { allow: string[] } };
  const launchFiles = () => readdirSync(d.env.CCO_TMPDIR as string).filter((f) => f.startsWith('.cco-settings-'));

  it('a user’s --settings (file, inline, --settings=) keeps orchestration on: one merged settings file, removed after the run', async () => {
    const userFile = join(project, 'my.json');
    const mine = { hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command: 'echo mine' }] }] }, env: { MY_ENV: '1' } };
    writeFileSync(userFile, JSON.stringify(mine));
    for (const args of [['--settings', 'my.json', '-p', 'x'], ['-p', 'x', `--settings=${userFile}`], ['--settings', JSON.stringify(mine), '-p', 'x']]) {
      const r = await launch(args, env, project);
      expect(r.code, r.stderr).toBe(0);
      const passed = readFileSync(join(claude.out, 'args'), 'utf8').split('\n').filter(Boolean);
      // one --settings only: Claude Code would keep the last of several
      expect(passed.filter((a) => a === '--settings' || a.startsWith('--settings=')), args.join(' ')).toEqual(['--settings']);
      expect(passed.slice(-2)).toEqual(['-p', 'x']);
      const s = sessionSettings();
      const prompt = s.hooks.UserPromptSubmit?.flatMap((e) => e.hooks) ?? [];
      expect(prompt.some((h) => h.command === 'echo mine')).toBe(true);
      expect(prompt.some((h) => h.type === 'http' || /hook UserPromptSubmit/.test(h.command ?? ''))).toBe(true);
      expect(s.hooks.PreToolUse?.length).toBeGreaterThan(0);
      expect(s.env).toMatchObject({ MY_ENV: '1', ORCHESTRATOR_ENABLED: 'true' });
      expect(s.permissions.allow).toContain('mcp__cco');
      expect(launchFiles()).toEqual([]);
    }
  });

  it('refuses a --settings it cannot read, without running Claude Code', async () => {
    writeFileSync(join(claude.out, 'args'), 'untouched');
    const r = await launch(['--settings', 'nope.json', '-p', 'x'], env, project);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Could not read your --settings (${join(realpathSync(project), 'nope.json')}): file not found`);
    expect(readFileSync(join(claude.out, 'args'), 'utf8')).toBe('untouched');
  });

  it('hands Claude Code the session’s folder for the MCP server’s header', async () => {
    const r = await launch(['-p', 'x'], env, project);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(claude.out, 'mcp-root'), 'utf8')).toBe(encodeURI(realpathSync(project)));
  });

  it('with an HTTP(S) proxy set, Claude Code reaches the daemon directly: loopback joins NO_PROXY, the user’s entries stay', async () => {
    const r = await launch(['-p', 'x'], { ...env, HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: 'corp.example', no_proxy: undefined }, project);
    expect(r.code, r.stderr).toBe(0);
    const [upper, lower, depth] = readFileSync(join(claude.out, 'proxy-env'), 'utf8').split('|');
    expect(upper).toBe('corp.example,127.0.0.1,localhost,::1');
    expect(lower).toBe(upper);
    expect(depth).toBe('1');
    // no proxy: nothing added
    await launch(['-p', 'x'], { ...env, HTTPS_PROXY: undefined, HTTP_PROXY: undefined, https_proxy: undefined, http_proxy: undefined, ALL_PROXY: undefined, all_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined }, project);
    expect(readFileSync(join(claude.out, 'proxy-env'), 'utf8')).toBe('||1');
  });

  it('uses the launch files of the daemon that answered, wherever its temp folder is (this shell\'s TMPDIR is another)', async () => {
    const otherTmp = join(project, 'other-tmp');
    mkdirSync(otherTmp, { recursive: true });
    const r = await launch(['-p', 'x'], { ...env, CCO_TMPDIR: otherTmp }, project);
    // was: "Temp file missing: .cco-hooks-sealed. Restart the daemon" (and a restart broke the other shells)
    expect(r.code, r.stderr).toBe(0);
    const passed = readFileSync(join(claude.out, 'args'), 'utf8').split('\n').filter(Boolean);
    expect(passed[passed.indexOf('--settings') + 1]).toBe(join(d.env.CCO_TMPDIR as string, '.cco-orchestrator-settings'));
  });

  it('refuses to go deeper than a few launches of itself (a `claude` that leads back to cco)', async () => {
    writeFileSync(join(claude.out, 'args'), 'untouched');
    const r = await launch(['-p', 'x'], { ...env, CCO_LAUNCH_DEPTH: '4' }, project);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('leads back to cco');
    expect(r.stderr).toContain('CCO_CLAUDE_BIN');
    expect(readFileSync(join(claude.out, 'args'), 'utf8')).toBe('untouched');
  });

  it('exits as a shell reports a Claude Code killed by a signal: 128 + its number (SIGSEGV 139, SIGABRT 134)', async () => {
    for (const [sig, code] of [['SEGV', 139], ['ABRT', 134], ['TERM', 143]] as const) {
      const bin = join(project, `claude-dies-${sig}`);
      writeFileSync(bin, `#!/bin/sh\nkill -${sig} $$\n`, { mode: 0o755 });
      const r = await launch(['-p', 'x'], { ...env, CCO_CLAUDE_BIN: bin }, project);
      expect([sig, r.code]).toEqual([sig, code]);
    }
  });

  it('warns, naming both URLs and the fix, when the user’s ANTHROPIC_BASE_URL is not the running daemon’s upstream', async () => {
    const r = await launch(['-p', 'x'], { ...env, ANTHROPIC_BASE_URL: 'http://127.0.0.1:21001' }, project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Your ANTHROPIC_BASE_URL (http://127.0.0.1:21001) is not used');
    expect(r.stderr).toContain('sends Claude Code\'s requests to https://api.anthropic.com');
    expect(r.stderr).toContain('cco daemon restart');
    // the gateway itself (cco within a cco session), or CCO's own override: nothing to say
    for (const extra of [{ ANTHROPIC_BASE_URL: d.url }, { ANTHROPIC_BASE_URL: 'http://127.0.0.1:21001', CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:21002' }]) {
      const q = await launch(['-p', 'x'], { ...env, ...extra }, project);
      expect(q.stderr).not.toContain('ANTHROPIC_BASE_URL (');
    }
  });
});

it('no warning when the running daemon’s upstream is the user’s ANTHROPIC_BASE_URL', async () => {
  const d = await startTestDaemon({ env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:21001/' } });
  try {
    const claude = fakeClaude(join(d.env.CCO_HOME as string, '..'));
    const r = await launch(['-p', 'x'], { ...d.env, CCO_PORT: new URL(d.url).port, CCO_CLAUDE_BIN: claude.bin, ANTHROPIC_BASE_URL: 'http://127.0.0.1:21001/v1' }, d.env.CCO_HOME as string);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('is not used');
  } finally {
    await d.cleanup();
  }
});

describe('a daemon that runs but does not answer', () => {
  const w = tempCcoEnv();
  let server: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    w.cleanup();
  });

  it('is reported as not answering, with cco daemon restart, not as "already running"', async () => {
    // a port that accepts connections and never answers (as a daemon stopped with SIGSTOP does),
    // recorded as this home's daemon by a live process
    server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    for (const d of [w.env.CCO_RUNTIME_DIR, w.env.CCO_CONFIG_DIR]) mkdirSync(d as string, { recursive: true });
    writeFileSync(join(w.env.CCO_RUNTIME_DIR as string, `daemon-${port}.json`), JSON.stringify({ pid: process.pid, identity: processIdentity(), port, host: '127.0.0.1', startedAt: Date.now(), version: 'test', logFile: '' }));
    writeFileSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'), '[daemon]\nstartup_timeout_ms = 300\n');
    const claude = fakeClaude(w.root);
    const r = await launch(['-p', 'x'], { ...w.env, CCO_PORT: String(port), CCO_CLAUDE_BIN: claude.bin }, w.root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The daemon is running (PID ${process.pid}) but does not answer at http://127.0.0.1:${port}`);
    expect(r.stderr).toContain('cco daemon restart');
    expect(r.stderr).not.toMatch(/already running/);
    expect(existsSync(join(claude.out, 'args'))).toBe(false);
  });
});

describe('a daemon started from an earlier build', () => {
  it('is named with the fix; the same build, or a launcher run from sources, says nothing', () => {
    const w = staleDaemonWarning('b2b2b2b2b2b2', 'a1a1a1a1a1a1', 3000);
    expect(w).toContain('runs another build of CCO (a1a1a1a1a1a1; this one is b2b2b2b2b2b2)');
    expect(w).toContain('cco daemon restart');
    expect(staleDaemonWarning('b2b2b2b2b2b2', undefined, 3100)).toContain('from before this update');
    expect(staleDaemonWarning('b2b2b2b2b2b2', undefined, 3100)).toContain('cco daemon restart --port 3100');
    expect(staleDaemonWarning('b2b2b2b2b2b2', 'b2b2b2b2b2b2', 3000)).toBeUndefined();
    expect(staleDaemonWarning(null, 'a1a1a1a1a1a1', 3000)).toBeUndefined();
  });
});

describe('a port the daemon cannot bind', () => {
  const w = tempCcoEnv();
  const servers: { close(): unknown }[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
    w.cleanup();
  });

  /** Listens on `port` (0: any) on 127.0.0.1; undefined when it is taken. */
  async function hold(port: number): Promise<number | undefined> {
    // answers at once (404), as a web server would: the launcher asks it for a session first
    const s = createHttpServer((_q, res) => res.writeHead(404).end());
    return new Promise((resolve) => {
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        servers.push(s);
        resolve((s.address() as { port: number }).port);
      });
    });
  }

  it.runIf(process.platform === 'linux')('suggests for cco a port that is free with its next one (the sidecar’s), the same in daemon.toml and CCO_PORT', async () => {
    // the port, and port + 2 (what was suggested before, whatever held it) taken
    let port: number | undefined;
    for (let i = 0; i < 20 && port === undefined; i++) {
      const p = await hold(0);
      if (p !== undefined && p + 3 <= 65535 && (await hold(p + 2)) !== undefined) port = p;
    }
    if (port === undefined) throw new Error('no port with port + 2 free to hold');
    const claude = fakeClaude(w.root);
    const r = await launch(['-p', 'x'], { ...w.env, CCO_PORT: String(port), CCO_CLAUDE_BIN: claude.bin }, w.root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Port ${port} is already in use`);
    const m = /For cco itself: set port = (\d+) under \[daemon\] in .*, or CCO_PORT=(\d+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(m?.[2]).toBe(m?.[1]);
    const suggested = Number(m?.[1]);
    expect(suggested).toBeGreaterThan(port + 2);
    // free, and so is the port its sidecar asks for
    for (const p of [suggested, suggested + 1]) expect(await hold(p), `port ${p}`).toBe(p);
  }, 30_000);
});
