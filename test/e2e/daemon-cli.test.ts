import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isAlive } from '../../src/core/process-alive.js';
import { CLI, ROOT, cliWorld, ensureBuilt, portFrom } from './harness.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('cco daemon lifecycle (real CLI, temp home)', () => {
  const w = cliWorld();
  let port = 0;
  afterAll(() => w.cleanup());

  it('starts detached, prints the seeds’ lines, and writes the launch files 0600', async () => {
    const r = await w.run(['daemon', 'start', '--port', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✅ Daemon started successfully');
    expect(r.stdout).toMatch(/PID: \d+/);
    expect(r.stdout).toContain(`VFS: ${w.env.CCO_TMPDIR}`);
    expect(r.stdout).toMatch(/Dashboard: http:\/\/localhost:\d+ {2}\(cco dashboard --port \d+ opens it with its access token\)/);
    port = portFrom(r.stdout);
    for (const f of ['.cco-orchestrator-settings', '.cco-agents-sealed', '.cco-rules-sealed', '.cco-hooks-sealed']) {
      const p = join(w.env.CCO_TMPDIR as string, f);
      expect(existsSync(p), f).toBe(true);
      expect(statSync(p).mode & 0o777, f).toBe(0o600);
    }
    expect(existsSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'))).toBe(true);
  });

  it('cco dashboard prints a one-time sign-in link (no access token in it), which signs in once', async () => {
    const r = await w.run(['dashboard', '--port', String(port), '--no-open']);
    expect(r.code, r.stderr).toBe(0);
    const url = /http:\/\/\S+/.exec(r.stdout)?.[0] ?? '';
    expect(url).toMatch(/\/\?code=[\w-]+$/);
    const token = readFileSync(join(w.env.CCO_RUNTIME_DIR as string, 'access-token'), 'utf8').trim();
    expect(url).not.toContain(token);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(401);
  });

  it('reports status and health', async () => {
    const s = await w.run(['daemon', 'status', '--port', String(port)]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('✅ Daemon is running');
    expect(s.stdout).toContain('✅ Sealed files: ok');
    const h = await w.run(['health', '--port', String(port)]);
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout)).toMatchObject({ status: 'ok', service: 'cco-daemon', checks: { database: { status: 'ok' } } });
  });

  it('names its process as the guides look for it (`pkill -f "cco.*daemon"`)', () => {
    const pid = w.daemons()[0]?.pid as number;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')).toMatch(new RegExp(`^cco-daemon --port ${port}\\b`));
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8')).toMatch(/^cco-daemon/);
  });

  it('cco doctor verifies the running setup, with Claude Code found on PATH', async () => {
    const d = await w.run(['doctor', '--port', String(port)], { env: { PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` } });
    expect(d.stdout).toMatch(/✅ Daemon: running at http:\/\/127\.0\.0\.1:\d+ \(ok\)/);
    expect(d.stdout).toContain('✅ Sealed files: settings + 3 sealed files verified');
    expect(d.stdout).toMatch(/✅ Claude Code: .*claude/);
    expect(d.stdout).toContain('✅ Temp directory');
    const noClaude = await w.run(['doctor', '--port', String(port)], { env: { PATH: '/usr/bin:/bin', CCO_CLAUDE_BIN: '' } });
    expect(noClaude.code).toBe(1);
    expect(noClaude.stdout).toMatch(/❌ Claude Code: not found on PATH\n\s+fix: Install it: npm install -g @anthropic-ai\/claude-code/);
    // the launcher says it in the guide's words (exit 127, as a shell does for a missing command)
    const launch = await w.run(['-p', 'hi'], { env: { PATH: '/usr/bin:/bin', CCO_CLAUDE_BIN: '', CCO_PORT: String(port) } });
    expect(launch.code).toBe(127);
    expect(launch.stderr).toContain('Claude Code executable not found in PATH');
    expect(launch.stderr).toContain('Please install Claude Code first: https://claude.ai/code');
  });

  it('cco hook forwards a hook event from stdin and prints the decision', async () => {
    // a search inside the session's folder is allowed without asking (a project beside the
    // world's home folder, not above it)
    const project = join(w.root, 'project');
    mkdirSync(project, { recursive: true });
    const input = JSON.stringify({ session_id: 'hook-cli', hook_event_name: 'PreToolUse', cwd: realpathSync(project), tool_name: 'Grep', tool_input: { pattern: 'x' } });
    const r = await w.run(['hook', 'PreToolUse'], { input, env: { ORCHESTRATOR_API_URL: `http://127.0.0.1:${port}` } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ hookSpecificOutput: { permissionDecision: 'allow' } });
    const res = await fetch(`http://127.0.0.1:${port}/api/hooks/events?session=hook-cli`);
    expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(1);
    // A daemon that is down never blocks Claude Code: nothing printed, exit 0.
    const down = await w.run(['hook', 'PreToolUse'], { input, env: { ORCHESTRATOR_API_URL: 'http://127.0.0.1:9' } });
    expect(down.code).toBe(0);
    expect(down.stdout).toBe('');
  });

  it('launches claude with the session flags before the user’s arguments, and bare --version/--help without them', async () => {
    // A stand-in `claude` that prints the arguments it was given, one per line.
    const bin = join(w.root, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'claude'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, CCO_PORT: String(port) };
    const tmp = w.env.CCO_TMPDIR as string;
    const session = await w.run(['-p', 'hello there', '--output-format', 'json'], { env });
    expect(session.code, session.stderr).toBe(0);
    expect(session.stdout.split('\n').filter(Boolean)).toEqual([
      '--settings',
      join(tmp, '.cco-orchestrator-settings'),
      `--mcp-config=${join(tmp, '.cco-mcp-config.json')}`,
      `--plugin-dir=${join(tmp, '.cco-plugin')}`,
      '-p',
      'hello there',
      '--output-format',
      'json',
    ]);
    for (const flag of ['--version', '-v', '--help', '-h']) {
      const r = await w.run([flag], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, flag).toBe(`${flag}\n`);
    }
    // Anything more than the bare flag is a session: the flags go in again.
    expect((await w.run(['--version', '--debug'], { env })).stdout).toContain('--settings');
  });

  it('a launch in another project folder gets that folder as ORCHESTRATOR_PROJECT_ROOT, and context from it', async () => {
    // a folder outside the one the daemon started in (its default root)
    const project = mkdtempSync(join(tmpdir(), 'cco-other-project-'));
    onTestFinished(() => rmSync(project, { recursive: true, force: true }));
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'billing_ledger.py'), 'def ledger_total():\n    return 42\n');
    const bin = join(w.root, 'fake-bin-ctx');
    mkdirSync(bin, { recursive: true });
    // a stand-in `claude` that asks for its context as the agents' prompts say
    writeFileSync(
      join(bin, 'claude'),
      '#!/bin/sh\necho "root=$ORCHESTRATOR_PROJECT_ROOT"\ncurl -sS --fail-with-body -H "Authorization: Bearer $ORCHESTRATOR_AGENT_TOKEN" "$ORCHESTRATOR_SIDECAR_URL/api/context/issue-9/python-specialist?root=$ORCHESTRATOR_PROJECT_ROOT&q=ledger"\n',
      { mode: 0o755 },
    );
    const r = await w.run(['-p', 'x'], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, CCO_PORT: String(port) }, cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`root=${realpathSync(project)}`);
    const ctx = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { project: { root: string }; relevant_files: { path: string }[] };
    expect(ctx.project.root).toBe(realpathSync(project));
    expect(ctx.relevant_files.map((f) => f.path)).toContain('src/billing_ledger.py');
  });

  it('refuses a second daemon on the same port', async () => {
    const r = await w.run(['daemon', 'start', '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already running on port \d+ \(PID \d+\)/);
  });

  it('restart recreates a missing sealed file', async () => {
    rmSync(join(w.env.CCO_TMPDIR as string, '.cco-agents-sealed'));
    const s = await w.run(['status', '--port', String(port)]);
    expect(s.stdout).toMatch(/Temp file missing: \.cco-agents-sealed/);
    const r = await w.run(['daemon', 'restart', '--port', String(port)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✅ Daemon started successfully');
    expect(existsSync(join(w.env.CCO_TMPDIR as string, '.cco-agents-sealed'))).toBe(true);
  });

  it('detects a tampered sealed file with the seeds’ message and remedy', async () => {
    const f = join(w.env.CCO_TMPDIR as string, '.cco-rules-sealed');
    const data = readFileSync(f);
    data[data.length - 2] = (data[data.length - 2] ?? 0) ^ 0xff;
    writeFileSync(f, data);
    const s = await w.run(['status', '--port', String(port)]);
    expect(s.stdout).toMatch(/Settings file verification failed: .*\.cco-rules-sealed.*cco daemon restart/);
    const launch = await w.run(['-p', 'hi'], { env: { CCO_PORT: String(port), CCO_CLAUDE_BIN: '/bin/echo' } });
    expect(launch.code).toBe(1);
    expect(launch.stderr).toMatch(/Settings file verification failed/);
  });

  it('stops gracefully, then says it is not running and exits non-zero', async () => {
    const pid = w.daemons()[0]?.pid;
    const r = await w.run(['daemon', 'stop', '--port', String(port)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Daemon stopped \(PID \d+\)/);
    expect(w.daemons()).toHaveLength(0);
    // gone: not running (a zombie its new parent has yet to reap holds nothing)
    expect(isAlive(pid as number)).toBe(false);
    const again = await w.run(['daemon', 'stop', '--port', String(port)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Daemon is not running');
    // the fix names the port the command was pointed at
    expect(again.stderr).toContain(`Start it with \`cco daemon start --port ${port}\``);
    const health = await w.run(['health', '--port', String(port)]);
    expect(health.code).toBe(1);
    expect(health.stderr).toContain(`Start it with \`cco daemon start --port ${port}\``);
    const log = await w.run(['daemon', 'logs', '--port', String(port), '-n', '5']);
    expect(log.stdout).toContain('"msg":"daemon stopped"');
    // the guides' level filter: labels in the file, --level to keep the serious lines
    const warn = await w.run(['daemon', 'logs', '--port', String(port), '--level', 'warn', '-n', '50']);
    expect(warn.code).toBe(0);
    expect(warn.stdout).not.toContain('"msg":"daemon stopped"');
  });
});

describe('cco daemon failure modes', () => {
  it('recovers a stale lock left by a dead process', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const dead = spawn(process.execPath, ['-e', '0']);
      await new Promise((r) => dead.on('exit', r));
      mkdirSync(w.env.CCO_RUNTIME_DIR as string, { recursive: true });
      writeFileSync(join(w.env.CCO_RUNTIME_DIR as string, `daemon-${port}.json`), JSON.stringify({ pid: dead.pid, port }));
      const r = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(r.code, r.stderr).toBe(0);
      expect(w.daemons()[0]?.pid).not.toBe(dead.pid);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });

  it('a lock whose pid now belongs to another process is stale: that process is never signalled, and the daemon starts', async () => {
    const w = cliWorld();
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const port = await freePort();
      mkdirSync(w.env.CCO_RUNTIME_DIR as string, { recursive: true });
      // what a daemon killed with -9 leaves, once its pid has gone to an unrelated process (a
      // container's PID 1 after a restart): the pid is alive, the process is not the daemon
      const lock = join(w.env.CCO_RUNTIME_DIR as string, `daemon-${port}.json`);
      writeFileSync(lock, JSON.stringify({ pid: other.pid, port, identity: 'an-earlier-boot:12345' }));
      const stop = await w.run(['daemon', 'stop', '--port', String(port)]);
      expect(stop.stdout + stop.stderr).toMatch(/not running/i);
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
      writeFileSync(lock, JSON.stringify({ pid: other.pid, port, identity: 'an-earlier-boot:12345' }));
      const r = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(r.code, r.stderr).toBe(0);
      expect(w.daemons()[0]?.pid).not.toBe(other.pid);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
      expect(other.exitCode).toBeNull();
    } finally {
      other.kill('SIGKILL');
      w.cleanup();
    }
  });

  it('cco status names a daemon that holds its port but does not answer (hung), instead of saying it is not running', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
      const pid = w.daemons()[0]?.pid as number;
      process.kill(pid, 'SIGSTOP');
      try {
        const r = await w.run(['status', '--port', String(port)]);
        expect(r.code).toBe(1);
        expect(r.stdout + r.stderr).toContain(`Daemon (PID ${pid}) holds port ${port} but does not answer`);
        expect(r.stdout + r.stderr).toContain('cco daemon restart');
      } finally {
        process.kill(pid, 'SIGKILL');
      }
    } finally {
      w.cleanup();
    }
  });

  it('refuses a second daemon on the same SQLite database (another port, same home), naming the first and the ways out', async () => {
    const w = cliWorld();
    try {
      const [a, b] = [await freePort(), await freePort()];
      expect((await w.run(['daemon', 'start', '--port', String(a)])).code).toBe(0);
      const first = w.daemons()[0]?.pid;
      const r = await w.run(['daemon', 'start', '--port', String(b)]);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(`Another daemon (PID ${first}`);
      expect(r.stdout + r.stderr).toMatch(/CCO_HOME.*DATABASE_URL, REDIS_URL/);
      // once the first has stopped, the second starts
      expect((await w.run(['daemon', 'stop', '--port', String(a)])).code).toBe(0);
      expect((await w.run(['daemon', 'start', '--port', String(b)])).code).toBe(0);
      expect((await w.run(['daemon', 'stop', '--port', String(b)])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });

  it('a bare cco --version or --help passes through without starting a daemon', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      // a stand-in claude that prints its arguments (/bin/echo answers --version itself)
      const claude = join(w.root, 'print-args');
      writeFileSync(claude, '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 });
      for (const flag of ['--version', '--help']) {
        const r = await w.run([flag], { env: { CCO_PORT: String(port), CCO_CLAUDE_BIN: claude } });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(`${flag}\n`);
      }
      expect(w.daemons()).toHaveLength(0);
    } finally {
      w.cleanup();
    }
  });

  it('several cco launched at once while the daemon is down all run: one starts it, the others use it', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const env = { CCO_PORT: String(port), CCO_CLAUDE_BIN: '/bin/echo' };
      // Four launchers and the daemon's start share this machine's cores: the seeds' 3 s for a
      // daemon to answer is the product's default, not what a loaded CI machine always manages.
      mkdirSync(w.env.CCO_CONFIG_DIR as string, { recursive: true });
      writeFileSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'), '[daemon]\nstartup_timeout_ms = 20000\n');
      const runs = await Promise.all([0, 1, 2, 3].map(() => w.run(['-p', 'hi'], { env })));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect(w.daemons()).toHaveLength(1);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });

  it('two daemons sharing one temp folder (other homes, other ports): each launch gets launch files of its own daemon', async () => {
    const a = cliWorld();
    const b = cliWorld({ CCO_TMPDIR: a.env.CCO_TMPDIR as string });
    try {
      const [pa, pb] = [await freePort(), await freePort()];
      expect((await a.run(['daemon', 'start', '--port', String(pa)])).code).toBe(0);
      expect((await b.run(['daemon', 'start', '--port', String(pb)])).code).toBe(0);
      const mcpConfig = join(a.env.CCO_TMPDIR as string, '.cco-mcp-config.json');
      expect(readFileSync(mcpConfig, 'utf8')).toContain(`:${pb}/mcp`);
      // a launch through the first daemon: its own hooks and MCP server, and its sealed files verify
      const launch = await a.run(['-p', 'hi'], { env: { CCO_PORT: String(pa), CCO_CLAUDE_BIN: '/bin/echo' } });
      expect(launch.code, launch.stderr).toBe(0);
      expect(readFileSync(mcpConfig, 'utf8')).toContain(`:${pa}/mcp`);
      expect(readFileSync(join(a.env.CCO_TMPDIR as string, '.cco-orchestrator-settings'), 'utf8')).toContain(`:${pa}/api/hooks/`);
    } finally {
      b.cleanup();
      a.cleanup();
    }
  });

  it('names the process holding the port and suggests --port', async () => {
    const w = cliWorld();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await w.run(['run', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Failed to bind to address 127.0.0.1:${port}. Port ${port} is already in use by`);
      expect(r.stderr).toContain(`PID ${process.pid}`);
      expect(r.stderr).toMatch(/--port \d+/);
      // the command that was run, with another port
      expect(r.stderr).toMatch(/cco run --port \d+/);
      expect(w.daemons()).toHaveLength(0);
      // the same through `cco daemon start`: said once, and in the log every message sends the user to
      const detached = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(detached.code).toBe(1);
      expect(detached.stdout + detached.stderr).not.toContain('Daemon failed to start: Daemon failed to start');
      const logs = await w.run(['daemon', 'logs', '--port', String(port)]);
      expect(logs.stdout).toContain('daemon failed to start');
      expect(logs.stdout).toContain(`Port ${port} is already in use`);
      // and through the launcher, which reads its port from daemon.toml or CCO_PORT, not --port
      const launched = await w.run(['-p', 'hi'], { env: { CCO_PORT: String(port), CCO_CLAUDE_BIN: '/bin/echo' } });
      expect(launched.code).toBe(1);
      expect(launched.stderr).toContain(`For cco itself: set port = ${port + 2} under [daemon] in`);
      expect(launched.stderr).toContain(`CCO_PORT=${port + 2}`);
    } finally {
      blocker.close();
      w.cleanup();
    }
  });

  it("the sidecar follows the daemon's port (seed 000's fix `--port 3001` gets 3002); a taken default moves, a taken configured port is named in the guide's words", async () => {
    const w = cliWorld();
    let port = 0;
    for (let i = 0; i < 20 && !port; i++) {
      const p = await freePort();
      if (await canListen(p + 1)) port = p;
    }
    const blocker: Server = createServer();
    try {
      const r = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(r.code, r.stderr).toBe(0);
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { checks: { sidecar: { url: string } } };
      expect(health.checks.sidecar.url).toBe(`http://127.0.0.1:${port + 1}`);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);

      await new Promise<void>((res) => blocker.listen(port + 1, '127.0.0.1', () => res()));
      // cco doctor (daemon down) checks the port the sidecar will ask for
      const doc = await w.run(['doctor', '--port', String(port)]);
      expect(doc.stdout).toMatch(new RegExp(`Port ${port + 1} \\(sidecar\\): in use.*the sidecar will take a port the OS chooses`));
      const docSet = await w.run(['doctor', '--port', String(port)], { env: { CCO_SIDECAR_PORT: String(port + 1) } });
      expect(docSet.stdout).toMatch(new RegExp(`❌ Port ${port + 1} \\(sidecar\\): in use`));
      expect(docSet.code).toBe(1);
      // the default taken: the OS chooses, the daemon starts
      const r2 = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(r2.code, r2.stderr).toBe(0);
      const h2 = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { checks: { sidecar: { status: string; url: string } } };
      expect(h2.checks.sidecar.status).toBe('ok');
      expect(h2.checks.sidecar.url).not.toBe(`http://127.0.0.1:${port + 1}`);
      // ... and says so where the user looks, not only in the log
      expect(r2.stdout).toContain(`⚠️  Sidecar: port ${port + 1} was taken, so it listens on ${new URL(h2.checks.sidecar.url).port}`);
      expect((await w.run(['status', '--port', String(port)])).stdout).toContain(`⚠️  Sidecar: port ${port + 1} was taken`);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
      // a configured port taken: the guide's words, and the daemon does not start
      const taken = await w.run(['run', '--port', String(port)], { env: { CCO_SIDECAR_PORT: String(port + 1) } });
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain('Sidecar failed to start: Address already in use');
      expect(taken.stderr).toContain(`Failed to bind to address 127.0.0.1:${port + 1}. Port ${port + 1} is already in use by`);
    } finally {
      blocker.close();
      w.cleanup();
    }
  });

  it('subcommand --help prints the help and exits 0; an unknown option is one line and exit 1 (no stack trace)', async () => {
    const w = cliWorld();
    try {
      for (const sub of ['status', 'run', 'mcp', 'fake-provider']) {
        const r = await w.run([sub, '--help']);
        expect(r.code, sub).toBe(0);
        expect(r.stdout, sub).toContain('--help');
        expect(r.stderr, sub).not.toMatch(/\n\s+at /);
      }
      const bad = await w.run(['status', '--bogus']);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim()).toBe("error: unknown option '--bogus'");
    } finally {
      w.cleanup();
    }
  });

  it('reports a malformed daemon.toml with its line', async () => {
    const w = cliWorld();
    try {
      mkdirSync(w.env.CCO_CONFIG_DIR as string, { recursive: true });
      writeFileSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'), '[daemon]\nport = 3000\nlog_level = "info\n');
      const r = await w.run(['run', '--port', '0']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/daemon\.toml:3:\d+/);
      writeFileSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'), '[daemon]\nport = "three"\n');
      const r2 = await w.run(['run', '--port', '0']);
      expect(r2.stderr).toMatch(/daemon\.toml:2: daemon\.port/);
    } finally {
      w.cleanup();
    }
  });

  it('a daemon.toml broken while the daemon runs: status, logs and stop still find it (the error said), a restart refuses', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      mkdirSync(w.env.CCO_CONFIG_DIR as string, { recursive: true });
      writeFileSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'), `[daemon]\nport = ${port}\n`);
      expect((await w.run(['daemon', 'start'])).code).toBe(0);
      writeFileSync(join(w.env.CCO_CONFIG_DIR as string, 'daemon.toml'), `[daemon]\nport = ${port}\nlog_level = "info\n`);
      // the port was in the broken file: found through the runtime folder's record
      const status = await w.run(['status']);
      expect(status.stderr).toMatch(/daemon\.toml:3/);
      expect(status.stdout).toContain(`${port}`);
      // a restart would stop it and then fail to start: refused before anything
      const restart = await w.run(['daemon', 'restart']);
      expect(restart.code).toBe(78);
      expect(w.daemons()).toHaveLength(1);
      const stop = await w.run(['daemon', 'stop']);
      expect(stop.code, stop.stderr).toBe(0);
      expect(stop.stdout).toMatch(/Daemon stopped/);
      expect(w.daemons()).toHaveLength(0);
    } finally {
      w.cleanup();
    }
  });
});

describe('seed 002 findings: Claude Code missing, a lost lock, a stranger on the port, ORCHESTRATOR_PORT, port 0, pipes, a bad database', () => {
  it('`cco --help` without Claude Code starts no daemon, and points to `cco help`', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const r = await w.run(['--help'], { env: { PATH: '/usr/bin:/bin', CCO_CLAUDE_BIN: '', CCO_PORT: String(port) } });
      expect(r.code).toBe(127);
      expect(r.stderr).toContain('Claude Code executable not found in PATH');
      expect(r.stderr).toContain('cco help');
      expect(r.stderr).not.toContain('Daemon started');
      expect(w.daemons()).toHaveLength(0);
      expect(await canListen(port)).toBe(true);
    } finally {
      w.cleanup();
    }
  });

  it('stop and restart find the daemon through /health when its lock file is lost or corrupt', async () => {
    const w = cliWorld();
    const pids: number[] = [];
    try {
      const port = await freePort();
      const lock = join(w.env.CCO_RUNTIME_DIR as string, `daemon-${port}.json`);
      expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
      const pid = w.daemons()[0]?.pid as number;
      pids.push(pid);
      rmSync(lock);
      expect((await w.run(['daemon', 'status', '--port', String(port)])).stdout).toContain(`Daemon is running (PID ${pid}`);
      const start = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(start.code).toBe(1);
      expect(start.stderr).toContain(`Daemon already running on port ${port} (PID ${pid}; its lock file was missing)`);
      const stop = await w.run(['daemon', 'stop', '--port', String(port)]);
      expect(stop.code, stop.stderr).toBe(0);
      expect(stop.stdout).toContain(`Daemon stopped (PID ${pid}) — found through /health: its lock file was missing`);
      expect(isAlive(pid)).toBe(false);

      expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
      const pid2 = w.daemons()[0]?.pid as number;
      pids.push(pid2);
      writeFileSync(lock, '{"pid":');
      const restart = await w.run(['daemon', 'restart', '--port', String(port)]);
      expect(restart.code, restart.stderr).toBe(0);
      expect(restart.stderr).toContain(`lock file could not be read (corrupt); kept it as ${lock}.corrupt`);
      expect(restart.stdout).toContain(`Daemon stopped (PID ${pid2})`);
      expect(restart.stdout).toContain('Daemon started successfully');
      expect(isAlive(pid2)).toBe(false);
      expect(readFileSync(`${lock}.corrupt`, 'utf8')).toBe('{"pid":');
      pids.push(w.daemons()[0]?.pid as number);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
    } finally {
      for (const p of pids) if (isAlive(p)) process.kill(p, 'SIGKILL');
      w.cleanup();
    }
  });

  it('a web server that is not CCO answering /health is named, never taken for a healthy daemon', async () => {
    const w = cliWorld();
    // what `python3 -m http.server` answers: 200 and a page
    const stranger = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Directory listing</html>'));
    await new Promise<void>((r) => stranger.listen(0, '127.0.0.1', () => r()));
    const port = (stranger.address() as { port: number }).port;
    try {
      const health = await w.run(['health'], { env: { CCO_PORT: String(port) } });
      expect(health.code).toBe(1);
      expect(health.stdout).not.toContain('undefined');
      expect(health.stderr).toContain(`not a CCO daemon answers on http://127.0.0.1:${port}: port ${port} is in use by`);
      expect(health.stderr).toContain(`(PID ${process.pid})`);
      const start = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(start.code).toBe(1);
      expect(start.stderr).toContain(`kill ${process.pid}`);
      expect(start.stderr).not.toContain('CCO_HOME');
      const stop = await w.run(['daemon', 'stop', '--port', String(port)]);
      expect(stop.code).toBe(1);
      expect(stop.stderr).toContain(`(PID ${process.pid})`);
      expect(w.daemons()).toHaveLength(0);
    } finally {
      stranger.close();
      w.cleanup();
    }
  });

  it('ORCHESTRATOR_PORT (the orchestrator guide\'s "use a different port") moves the daemon as CCO_PORT does', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const env = { ORCHESTRATOR_PORT: String(port) };
      const r = await w.run(['daemon', 'start'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Port: ${port}`);
      expect((await w.run(['health'], { env })).code).toBe(0);
      expect((await w.run(['daemon', 'stop'], { env })).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });

  it('a daemon started with --port 0: no sidecar warning, and its log is found by its port after a crash', async () => {
    const w = cliWorld();
    try {
      const r = await w.run(['daemon', 'start', '--port', '0']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('Sidecar: port');
      const port = portFrom(r.stdout);
      const pid = w.daemons()[0]?.pid as number;
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((res) => setTimeout(res, 20));
      const logs = await w.run(['daemon', 'logs', '--port', String(port)]);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stderr).toContain('daemon-0.log');
      expect(logs.stdout).toContain(`"port":${port}`);
    } finally {
      w.cleanup();
    }
  });

  it('`cco daemon restart | head -1` prints no EPIPE trace, and still restarts the daemon', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
      const before = w.daemons()[0]?.pid;
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const sh = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" daemon restart --port ${port} | head -1`], { env: w.env });
        let stdout = '';
        let stderr = '';
        sh.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        sh.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        sh.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(r.stderr).not.toContain('EPIPE');
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      // the restart went on after its reader left
      let after: number | undefined;
      for (let i = 0; i < 200 && (after === undefined || after === before); i++) {
        after = w.daemons()[0]?.pid;
        if (after === undefined || after === before) await new Promise((res) => setTimeout(res, 50));
      }
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      expect((await w.run(['health', '--port', String(port)])).code).toBe(0);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });

  it('cco doctor names a database file that is not a database, and how to move it aside', async () => {
    const w = cliWorld();
    try {
      const home = w.env.CCO_HOME as string;
      mkdirSync(home, { recursive: true });
      const db = join(home, 'analytics.db');
      writeFileSync(db, randomBytes(32 * 1024));
      const d = await w.run(['doctor', '--port', String(await freePort())]);
      expect(d.code).toBe(1);
      expect(d.stdout).toContain(`❌ Database: cannot open SQLite ${db}: file is not a database`);
      expect(d.stdout).toContain(`mv ${db} ${db}.corrupt`);
      expect(d.stdout).toContain('fix the Database problem above first');
    } finally {
      w.cleanup();
    }
  });
});

describe('seed 002 review: logs --lines, and the guide\'s "use a different port" beside a daemon', () => {
  it('`cco daemon logs -n 0` prints nothing, as tail does; a count that is not a whole number is refused naming --lines', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const logDir = join(w.env.CCO_HOME as string, 'logs');
      mkdirSync(logDir, { recursive: true });
      const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ level: 'info', msg: `line ${i}` }));
      writeFileSync(join(logDir, `daemon-${port}.log`), `${lines.join('\n')}\n`);
      const none = await w.run(['daemon', 'logs', '--port', String(port), '-n', '0']);
      expect(none.code, none.stderr).toBe(0);
      expect(none.stdout).toBe('');
      const two = await w.run(['daemon', 'logs', '--port', String(port), '-n', '2']);
      expect(two.stdout.trim().split('\n')).toEqual(lines.slice(3));
      const noneAtLevel = await w.run(['daemon', 'logs', '--port', String(port), '-n', '0', '--level', 'info']);
      expect(noneAtLevel.stdout).toBe('');
      for (const bad of ['-1', 'abc', '1.5']) {
        const r = await w.run(['daemon', 'logs', '--port', String(port), '-n', bad]);
        expect(r.code, bad).toBe(2);
        expect(r.stdout, bad).toBe('');
        expect(r.stderr, bad).toContain('--lines');
      }
      // a start's --timeout the same way: refused before anything starts (was: "within NaN seconds", and a daemon running)
      for (const bad of ['abc', '0', '-5']) {
        const r = await w.run(['daemon', 'start', '--port', String(port), '--timeout', bad]);
        expect(r.code, bad).toBe(2);
        expect(r.stderr, bad).toContain('Invalid --timeout');
        expect(w.daemons(), bad).toEqual([]);
      }
    } finally {
      w.cleanup();
    }
  });

  it("a port taken by a running daemon's sidecar (ORCHESTRATOR_PORT=8101 beside a daemon on 8100) is named as that, with a free pair of ports and never `kill`", async () => {
    const w = cliWorld();
    try {
      let port = 0;
      for (let i = 0; i < 20 && !port; i++) {
        const p = await freePort();
        if (await canListen(p + 1)) port = p;
      }
      const started = await w.run(['daemon', 'start', '--port', String(port)]);
      expect(started.code, started.stderr).toBe(0);
      const pid = w.daemons()[0]?.pid as number;
      const sidecar = port + 1;
      const named = `sidecar port of the CCO daemon on port ${port} (PID ${pid})`;
      const suggested = (text: string): number => Number(/start --port (\d+)/.exec(text)?.[1]);

      const start = await w.run(['daemon', 'start'], { env: { ORCHESTRATOR_PORT: String(sidecar) } });
      expect(start.code).toBe(1);
      expect(start.stderr).toContain(`Port ${sidecar} is the ${named}`);
      expect(start.stderr).not.toContain('kill');
      expect(start.stderr).not.toContain('not a CCO daemon');
      const p = suggested(start.stderr);
      expect(p).toBeGreaterThanOrEqual(port + 2);
      expect(await canListen(p)).toBe(true);
      expect(await canListen(p + 1)).toBe(true);

      // the launcher starts a daemon there, which cannot bind: the same words
      const launched = await w.run(['-p', 'hi'], { env: { ORCHESTRATOR_PORT: String(sidecar), CCO_CLAUDE_BIN: '/bin/echo' } });
      expect(launched.code).toBe(1);
      expect(launched.stderr).toContain(`Port ${sidecar} is already in use by the sidecar of the CCO daemon on port ${port} (PID ${pid})`);
      expect(launched.stderr).not.toContain(`kill ${pid}`);

      const stop = await w.run(['daemon', 'stop', '--port', String(sidecar)]);
      expect(stop.code).toBe(1);
      expect(stop.stderr).toContain(`cco daemon stop --port ${port}`);
      const doctor = await w.run(['doctor', '--port', String(sidecar)]);
      expect(doctor.stdout).toContain(`❌ Daemon: port ${sidecar} is the ${named}`);
      expect(doctor.stdout).not.toContain(`kill ${pid}`);

      // the daemon the user still wants is untouched
      expect(isAlive(pid)).toBe(true);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });
});

describe('a port held by a process that is no CCO daemon and does not answer HTTP', () => {
  it('health, status and daemon stop name the holder and the ways out, not "not running" with a start that would fail', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const silent = spawn(process.execPath, ['-e', "require('net').createServer(() => {}).listen(Number(process.argv[1]), '127.0.0.1', () => console.log('up'))", String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
      try {
        await new Promise((r) => silent.stdout?.once('data', r));
        for (const args of [['health'], ['status'], ['daemon', 'stop']]) {
          const r = await w.run([...args, '--port', String(port)]);
          expect(r.code, args.join(' ')).toBe(1);
          expect(r.stderr, args.join(' ')).toContain(`port ${port} is held by`);
          expect(r.stderr, args.join(' ')).toContain(`(PID ${silent.pid})`);
          expect(r.stderr, args.join(' ')).not.toContain('Daemon is not running');
        }
      } finally {
        silent.kill();
      }
    } finally {
      w.cleanup();
    }
  }, 60_000);
});

describe('cco run in the foreground', () => {
  it('a second Ctrl-C stops it at once while the first one\'s graceful stop waits for a call in flight', async () => {
    const w = cliWorld();
    // an upstream that takes the call and never answers: the gateway call holds the graceful stop
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const upstream = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const child = spawn(process.execPath, [CLI, 'run', '--port', '0'], { env: { ...w.env, CCO_ANTHROPIC_BASE_URL: upstream }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      for (let i = 0; i < 200 && !/Listening on /.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const url = /Listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1] as string;
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      void fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hold' }] }) }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      child.kill('SIGINT');
      // was: ignored, the stop waited its 5 s grace
      expect(await exited).toBe(130);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      child.kill('SIGKILL');
      silent.close();
      w.cleanup();
    }
  }, 30_000);
});

describe('results restored from an older backup (sidecar re-index)', () => {
  it('a start indexes a result file of an issue the store does not know; `daemon restart --reindex-results` one of an issue it knows', async () => {
    const w = cliWorld();
    try {
      const port = await freePort();
      const results = join(w.env.CCO_HOME as string, 'orchestration', 'results');
      const resultFile = (issue: string, agentType: string, summary: string) => {
        mkdirSync(join(results, issue), { recursive: true });
        writeFileSync(join(results, issue, `${agentType}.json`), JSON.stringify({ agent_id: `${agentType}-1`, agent_type: agentType, issue_id: issue, result: { status: 'success', summary }, stored_at: 1 }));
      };
      const reindexLines = async () => {
        const log = await w.run(['daemon', 'logs', '--port', String(port), '-n', '1000']);
        return log.stdout.split('\n').filter((l) => l.includes('re-indexed result files'));
      };
      // the store knows no issue: the start indexes the file
      resultFile('issue-7', 'python-specialist', 'first agent');
      expect((await w.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
      expect(await reindexLines()).toHaveLength(1);
      // a second agent's file of that issue: a plain restart does not look (one issue, one folder)
      resultFile('issue-7', 'test-engineer', 'second agent');
      expect((await w.run(['daemon', 'restart', '--port', String(port)])).code).toBe(0);
      expect(await reindexLines()).toHaveLength(1);
      const r = await w.run(['daemon', 'restart', '--port', String(port), '--reindex-results']);
      expect(r.code, r.stderr).toBe(0);
      const lines = await reindexLines();
      expect(lines).toHaveLength(2);
      expect(JSON.parse(lines[1] as string)).toMatchObject({ files: 1 });
      expect(existsSync(join(results, '.reindexing'))).toBe(false);
      expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  }, 60_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
