import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CLI, ROOT, cliWorld, ensureBuilt, portFrom } from './harness.js';

/**
 * The deployment files (seed 004: Dockerfile with a non-root user and HEALTHCHECK, docker-compose
 * with PostgreSQL and Redis, Kubernetes manifests). No container engine runs here, so the image
 * is not built; what can be checked is: the image's own command starts the daemon with the image's
 * environment, its health check command answers 0 then 1 when the daemon is gone, and the compose
 * file and manifests wire what they name.
 */
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const json = (line: string): string[] => JSON.parse(line) as string[];

/** The port a foreground daemon prints ("Listening on http://127.0.0.1:<port>"). */
function listening(daemon: ChildProcess): Promise<number> {
  let out = '';
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Listening on http/.test(out)) {
        clearTimeout(timer);
        resolve(portFrom(out));
      }
    };
    daemon.stdout?.on('data', onData);
    daemon.stderr?.on('data', onData);
  });
}

describe('Dockerfile', () => {
  const world = cliWorld();
  afterAll(() => world.cleanup());

  it('runs as a non-root user in the final stage, with a HEALTHCHECK on /health', () => {
    expect(finalStage).toMatch(/^USER node$/m);
    expect(finalStage).toMatch(/^HEALTHCHECK .*\n\s+CMD node -e ".*\/health/m);
    // every folder the package ships (package.json "files") but scripts is in the image
    const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    for (const f of files.filter((f) => f !== 'scripts')) expect(finalStage).toContain(`/app/${f} ./${f}`);
  });

  it("the image's CMD starts the daemon with the image's environment, and its health check follows it", async () => {
    ensureBuilt();
    const env: Record<string, string> = {};
    for (const m of finalStage.matchAll(/(CCO_\w+)=(\S+)/g)) env[m[1] as string] = (m[2] as string).replace(/^\/data/, world.root);
    expect(Object.keys(env).sort()).toEqual(['CCO_CONFIG_DIR', 'CCO_HOME', 'CCO_HOST', 'CCO_PORT', 'CCO_TMPDIR']);
    // same variables, on loopback and an OS-chosen port instead of 0.0.0.0:3000
    Object.assign(env, { CCO_HOST: '127.0.0.1', CCO_PORT: '0', CCO_RUNTIME_DIR: join(world.root, 'run') });
    const cmd = json(/^CMD (\[.*\])$/m.exec(finalStage)?.[1] ?? '[]');
    expect(cmd.slice(0, 2)).toEqual(['node', 'dist/cco/main.js']);
    const daemon = spawn(process.execPath, [CLI, ...cmd.slice(2)], { cwd: ROOT, env: { ...world.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await listening(daemon);
      const check = /HEALTHCHECK[^\n]*\n\s+CMD node -e "(.*)"$/m.exec(finalStage)?.[1]?.replace('127.0.0.1:3000', `127.0.0.1:${port}`) ?? '';
      expect(spawnSync(process.execPath, ['-e', check]).status).toBe(0);
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      expect(spawnSync(process.execPath, ['-e', check]).status).toBe(1);
    } finally {
      daemon.kill('SIGKILL');
    }
  });
});

describe('node dist/index.js (the guides\' server entry)', () => {
  const world = cliWorld();
  afterAll(() => world.cleanup());

  it('runs the daemon in the foreground, as cco run does', async () => {
    ensureBuilt();
    const daemon = spawn(process.execPath, [join(ROOT, 'dist', 'index.js'), '--port', '0'], { cwd: world.root, env: world.env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await listening(daemon);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      daemon.kill('SIGTERM');
      expect(await new Promise((r) => daemon.once('exit', (code) => r(code)))).toBe(0);
    } finally {
      daemon.kill('SIGKILL');
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] } }>;
  };

  it('runs the daemon on PostgreSQL and Redis, starting once both are healthy', () => {
    const { cco, postgres, redis } = compose.services;
    expect(cco?.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    for (const s of [cco, postgres, redis]) expect(s?.healthcheck?.test.length).toBeGreaterThan(0);
    expect(new URL(cco?.environment?.DATABASE_URL ?? '').hostname).toBe('postgres');
    expect(new URL(cco?.environment?.REDIS_URL ?? '').hostname).toBe('redis');
    expect(cco?.environment?.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    expect(cco?.healthcheck?.test.join(' ')).toContain('/health');
  });
});

describe('Kubernetes manifests', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/k8s/cco.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
  const of = (kind: string) => docs.find((d) => d.kind === kind);

  it('a non-root Deployment ready on /health, a Service selecting its pods and an Ingress to the Service', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'Deployment', 'Service', 'Ingress']);
    const dep = of('Deployment');
    const pod = dep?.spec.template;
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    const c = pod.spec.containers[0];
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: c.ports[0].name });
    // liveness does not follow /health: a Redis outage (503) must not restart every pod
    expect(c.livenessProbe.tcpSocket).toEqual({ port: c.ports[0].name });
    expect(of('Service')?.spec.selector).toEqual(pod.metadata.labels);
    expect(of('Ingress')?.spec.rules[0].http.paths[0].backend.service.name).toBe(of('Service')?.metadata.name);
    for (const d of docs.slice(1)) expect(d.metadata.namespace).toBe(of('Namespace')?.metadata.name);
  });
});
