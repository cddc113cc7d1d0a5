import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisChannel } from '../../src/core/redis-channel.js';
import { cliWorld, ensureBuilt, startDaemonProcess } from './harness.js';

const url = process.env.REDIS_URL;

/**
 * The chain a user relies on in team mode: `REDIS_URL` in the daemon's environment (no config
 * file) is what puts the sidecar's events on Redis. The bus suites pass the address in directly;
 * this starts the shipped CLI with only the variable set.
 */
if (!url) describe('REDIS_URL in the environment (real daemon process)', () => it.skip('skipped: set REDIS_URL to run it', () => {}));
else
  describe('REDIS_URL in the environment (real daemon process)', () => {
    beforeAll(() => ensureBuilt(), 120_000);
    const w = cliWorld();
    const children: ChildProcess[] = [];
    let listener: Redis | undefined;

    afterAll(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      listener?.disconnect();
      w.cleanup();
    });

    const start = (env: NodeJS.ProcessEnv) => {
      const project = join(w.root, 'project');
      mkdirSync(project, { recursive: true });
      return startDaemonProcess(env, project, children);
    };

    it("puts the sidecar's events on Redis and reports Redis in /health", async () => {
      listener = new Redis(url);
      const heard: string[] = [];
      listener.on('message', (_channel: string, message: string) => heard.push(message));
      await listener.subscribe(redisChannel(url, 'cco:sidecar:events'));

      const { daemonUrl, sidecarUrl } = await start({ ...w.env, REDIS_URL: url });
      // the link comes up beside the start: /health reports it once it is there
      let redis: { status: string } | undefined;
      for (let i = 0; i < 100 && redis?.status !== 'ok'; i++) {
        if (i) await new Promise((r) => setTimeout(r, 100));
        redis = ((await (await fetch(`${daemonUrl}/health`)).json()) as { checks: Record<string, { status: string }> }).checks.redis;
      }
      expect(redis).toMatchObject({ status: 'ok' });

      const access = readFileSync(join(w.env.CCO_RUNTIME_DIR as string, 'access-token'), 'utf8').trim();
      const spawned = await fetch(`${daemonUrl}/api/agents/spawn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cco-token': access },
        body: JSON.stringify({ agent_type: 'chief-architect', issues: '*', agent_id: 'team-env-agent' }),
      });
      expect(spawned.status).toBe(201);
      const { token } = (await spawned.json()) as { token: string };
      const before = heard.length;
      const published = await fetch(`${sidecarUrl}/api/events/architecture_defined`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'issue-1', data: { ok: true } }),
      });
      expect(published.status).toBe(201);
      // the wake-up other instances listen for
      const deadline = Date.now() + 5000;
      while (heard.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(heard.length).toBeGreaterThan(before);
    });
  });
