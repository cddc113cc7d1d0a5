import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cliWorld, ensureBuilt, startDaemonProcess } from './harness.js';
import type { DaemonProcess } from './harness.js';

beforeAll(() => ensureBuilt(), 120_000);

/** Two agent types the real catalog (agents/*.md) has. */
function catalogTypes(): [string, string] | undefined {
  const names = existsSync(join(ROOT, 'agents')) ? readdirSync(join(ROOT, 'agents')).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)) : [];
  const pick = ['python-specialist', 'chief-architect'].filter((n) => names.includes(n));
  const two = pick.length === 2 ? pick : names.slice(0, 2);
  return two.length === 2 ? [two[0] as string, two[1] as string] : undefined;
}

describe('sidecar durability across kill -9 (real daemon process)', () => {
  const w = cliWorld();
  const project = join(w.root, 'project');
  const children: ChildProcess[] = [];
  const types = catalogTypes();

  const start = (): Promise<DaemonProcess> => startDaemonProcess(w.env, project, children);

  const killHard = (r: DaemonProcess): Promise<void> =>
    new Promise((resolve) => {
      r.child.once('exit', () => resolve());
      r.child.kill('SIGKILL');
    });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    w.cleanup();
  });

  it.skipIf(!types)('keeps every acknowledged result and event after the daemon is killed mid-stream', async () => {
    const [specialist, architect] = types as [string, string];
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'app.py'), 'def main():\n    return 1\n');
    const first = await start();
    const health = (await (await fetch(`${first.sidecarUrl}/health`)).json()) as { service: string; status: string };
    expect(health).toMatchObject({ service: 'orchestration-sidecar', status: 'healthy' });

    const access = readFileSync(join(w.env.CCO_RUNTIME_DIR as string, 'access-token'), 'utf8').trim();
    const spawned = await fetch(`${first.daemonUrl}/api/agents/spawn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cco-token': access },
      body: JSON.stringify({ agent_type: specialist, issues: '*', agent_id: 'durable-agent' }),
    });
    expect(spawned.status).toBe(201);
    const { token } = (await spawned.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    // writers run flat out; whatever got a 201 before the kill must survive it
    const ackedResults: { issue: string; type: string; n: number }[] = [];
    const ackedEvents: { id: number; n: number }[] = [];
    let stop = false;
    const resultWriter = (async () => {
      for (let n = 0; !stop; n++) {
        const issue = `issue-${n % 25}`;
        const type = n % 2 ? specialist : architect;
        try {
          const r = await fetch(`${first.sidecarUrl}/api/results`, { method: 'POST', headers: auth, body: JSON.stringify({ agent_id: 'durable-agent', agent_type: type, issue_id: issue, result: { status: 'success', n, decisions: [`decision ${n}`] } }) });
          if (r.status === 201) {
            const i = ackedResults.findIndex((x) => x.issue === issue && x.type === type);
            if (i >= 0) ackedResults.splice(i, 1);
            ackedResults.push({ issue, type, n });
          }
        } catch {
          return;
        }
      }
    })();
    const eventWriters = [0, 1, 2].map(async (k) => {
      for (let n = k; !stop; n += 3) {
        try {
          const r = await fetch(`${first.sidecarUrl}/api/events/durable_tick`, { method: 'POST', headers: auth, body: JSON.stringify({ topic: 'durability', data: { n } }) });
          if (r.status === 201) ackedEvents.push({ id: ((await r.json()) as { id: number }).id, n });
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await killHard(first);
    stop = true;
    await Promise.all([resultWriter, ...eventWriters]);
    expect(ackedResults.length).toBeGreaterThan(5);
    expect(ackedEvents.length).toBeGreaterThan(20);

    const second = await start();
    // the agent key survived: the same token still works
    for (const a of ackedResults) {
      const r = await fetch(`${second.sidecarUrl}/api/results/${a.issue}/${a.type}`, { headers: auth });
      expect(r.status, `${a.issue}/${a.type}`).toBe(200);
      const body = (await r.json()) as { result: { n: number } };
      // a request in flight at the kill may have landed after the last acknowledged one
      expect(body.result.n).toBeGreaterThanOrEqual(a.n);
      const file = JSON.parse(readFileSync(join(w.env.CCO_HOME as string, 'orchestration', 'results', a.issue, `${a.type}.json`), 'utf8')) as { result: { n: number } };
      expect(file.result.n).toBeGreaterThanOrEqual(a.n);
    }
    const stored = new Map<number, number>();
    for (let after = 0; ; ) {
      const r = (await (await fetch(`${second.sidecarUrl}/api/events?event_type=durable_tick&after=${after}&limit=1000`, { headers: auth })).json()) as { events: { id: number; data: { n: number } }[]; cursor: number };
      if (r.events.length === 0) break;
      for (const e of r.events) stored.set(e.id, e.data.n);
      after = r.cursor;
    }
    for (const e of ackedEvents) expect(stored.get(e.id), `event ${e.id}`).toBe(e.n);
    // and a waiter resumes from its cursor without losing or repeating
    const last = Math.max(...ackedEvents.map((e) => e.id));
    const waited = (await (await fetch(`${second.sidecarUrl}/api/events/wait/durable_tick?after=${last}&timeout=100`, { headers: auth })).json()) as { events: { id: number }[] };
    for (const e of waited.events) expect(e.id).toBeGreaterThan(last);
    const status = (await (await fetch(`${second.sidecarUrl}/status`)).json()) as { events: { total_published: number }; storage: { results_stored: number } };
    expect(status.events.total_published).toBeGreaterThanOrEqual(ackedEvents.length);
    expect(status.storage.results_stored).toBeGreaterThanOrEqual(ackedResults.length);
    // the daemon forwards /api/orchestration/* to the sidecar, Authorization included
    const proxied = await fetch(`${second.daemonUrl}/api/orchestration/results?limit=5000`, { headers: auth });
    expect(proxied.status).toBe(200);
    expect(((await proxied.json()) as { count: number }).count).toBe(status.storage.results_stored);
    expect((await fetch(`${second.daemonUrl}/api/orchestration/results`)).status).toBe(401);
    await killHard(second);
  }, 60_000);
});
