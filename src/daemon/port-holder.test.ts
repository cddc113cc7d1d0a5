import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { notCcoMessage, probeHealth, whoAnswers } from './control.js';
import { daemonOnPort, findPortHolder, portHolderAdvice, portInUseMessage, sidecarOwner, suggestFreePort } from './port-holder.js';

const SIDECAR_HEALTH = JSON.stringify({ status: 'healthy', service: 'orchestration-sidecar', version: 'test', checks: {} });
const onLinux = process.platform === 'linux';

/**
 * A process titled as a daemon on port D (`cco-daemon --port D`, as `cco run` names itself) that
 * listens on D + 1 and answers /health as the sidecar does: what the guide's "use a different
 * port: 8101" meets beside a daemon on 8100.
 */
async function fakeDaemonSidecar(): Promise<{ child: ChildProcess; port: number; daemonPort: number }> {
  const script = `
    const server = require('node:http').createServer((q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end(${JSON.stringify(SIDECAR_HEALTH)}));
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      process.title = 'cco-daemon --port ' + (port - 1);
      console.log(port);
    });
    setTimeout(() => process.exit(0), 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve));
  const port = Number(line);
  return { child, port, daemonPort: port - 1 };
}

describe("a port held by a CCO daemon's sidecar", () => {
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  afterAll(() => {
    for (const c of children) c.kill();
  });
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('is told by the holder’s title: a cco-daemon listening on a port other than its own', () => {
    expect(sidecarOwner({ pid: 7, command: 'cco-daemon --port 8100' }, 8101)).toEqual({ daemonPort: 8100, pid: 7 });
    expect(sidecarOwner({ pid: 7, command: 'cco-daemon --port 8100' }, 8100)).toBeUndefined();
    expect(sidecarOwner({ pid: 7, command: 'python3 -m http.server' }, 8101)).toBeUndefined();
    expect(sidecarOwner(undefined, 8101)).toBeUndefined();
  });

  it.runIf(onLinux)('is named as that daemon’s sidecar, never as a process to kill, with a port whose next one is free too', async () => {
    const f = await fakeDaemonSidecar();
    children.push(f.child);
    expect(findPortHolder(f.port)).toMatchObject({ pid: f.child.pid, command: `cco-daemon --port ${f.daemonPort}` });
    const url = `http://127.0.0.1:${f.port}`;
    const answer = await whoAnswers(url, f.port, '/nowhere/analytics.db');
    expect(answer).toEqual({ kind: 'other', sidecar: true });
    const m = notCcoMessage(url, f.port, 'cco daemon start --port {port}', answer.kind === 'other' ? answer : {});
    expect(m).toContain(`Port ${f.port} is the sidecar port of the CCO daemon on port ${f.daemonPort} (PID ${f.child.pid})`);
    expect(m).toContain("daemon's port + 1 by default");
    expect(m).not.toContain('kill');
    expect(m).not.toContain('not a CCO daemon');
    const suggested = Number(/--port (\d+)/.exec(m)?.[1]);
    expect(suggested).toBeGreaterThanOrEqual(f.daemonPort + 2);
    expect(findPortHolder(suggested)).toBeUndefined();
    expect(findPortHolder(suggested + 1)).toBeUndefined();
    // the daemon's own "cannot bind" line says the same
    const bind = portInUseMessage(f.port, 'daemon', 'cco run --port {port}');
    expect(bind).toContain(`Port ${f.port} is already in use by the sidecar of the CCO daemon on port ${f.daemonPort} (PID ${f.child.pid})`);
    expect(bind).not.toContain('kill');
  });

  it('is recognised by its /health when the process cannot be named', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(SIDECAR_HEALTH));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    const probe = await probeHealth(url);
    expect(probe).toEqual({ kind: 'other', status: 200, sidecar: true });
    const m = notCcoMessage(url, port, 'cco daemon start --port {port}', probe.kind === 'other' ? probe : {});
    expect(m).toContain(`Port ${port} is the sidecar port of a CCO daemon`);
    expect(m).not.toContain('kill');
  });
});

describe('the port suggested instead of a taken one', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  const listen = async (port = 0): Promise<number> => {
    const s = createServer();
    servers.push(s);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
    return (s.address() as { port: number }).port;
  };

  it.runIf(onLinux)('skips a port in use, and for a daemon one whose next port (its sidecar’s) is in use', async () => {
    const taken = await listen();
    expect(suggestFreePort(taken, false)).toBeGreaterThan(taken);
    // for cco proxy the port just below is fine; for a daemon its sidecar would meet `taken`
    const below = taken - 1;
    if (!findPortHolder(below)) {
      expect(suggestFreePort(below, false)).toBe(below);
      expect(suggestFreePort(below, true)).toBeGreaterThan(taken);
    }
    const forDaemon = suggestFreePort(taken, true);
    expect(findPortHolder(forDaemon)).toBeUndefined();
    expect(findPortHolder(forDaemon + 1)).toBeUndefined();
  });

  it('a stranger on the port keeps the advice to stop it or move', async () => {
    const port = await listen();
    const { fix } = portHolderAdvice(port, 'cco daemon start --port {port}');
    if (onLinux) expect(fix).toContain(`kill ${process.pid}`);
    expect(fix).toMatch(/use a different port: cco daemon start --port \d+/);
  });
});

describe('a port held by a CCO daemon itself', () => {
  it('is told by the holder’s title: cco-daemon --port N on port N (or a daemon still starting), not its sidecar’s port nor a stranger', () => {
    expect(daemonOnPort({ pid: 7, command: 'cco-daemon --port 3750' }, 3750)).toEqual({ pid: 7 });
    expect(daemonOnPort({ pid: 7, command: 'cco-daemon' }, 3750)).toEqual({ pid: 7 });
    expect(daemonOnPort({ pid: 7, command: 'cco-daemon --port 3750' }, 3751)).toBeUndefined();
    expect(daemonOnPort({ pid: 7, command: 'cco-daemonic --port 3750' }, 3750)).toBeUndefined();
    expect(daemonOnPort({ pid: 7, command: 'python3 -m http.server 3750' }, 3750)).toBeUndefined();
    expect(daemonOnPort(undefined, 3750)).toBeUndefined();
  });
});
