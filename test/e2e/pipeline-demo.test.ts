import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/pipeline/demo.js';
import { ROOT } from './harness.js';

describe('offline demo (cco demo)', () => {
  it('runs a requirement end to end against the labelled DEMO provider and prints the live progress', async () => {
    const lines: string[] = [];
    const r = await runDemo({ requirement: 'a Markdown guide to brewing pour-over coffee', print: (l) => lines.push(l) });
    try {
      expect(r.task.status).toBe('completed');
      expect(lines[0]).toMatch(/^🧪 DEMO provider \(canned replies, not a real model\) at http:\/\/127\.0\.0\.1:\d+$/);
      const out = lines.join('\n');
      expect(out).toMatch(/\[task\] {2}created → queued[\s\S]*\[agent\] .* Working · tasks done 0[\s\S]*\[file\] {2}document\.md[\s\S]*\[task\] {2}archived → completed/);
      expect(out).toContain(`✅ Task ${r.task.id} completed`);
      expect(out).toMatch(/Gateway: 5 request\(s\), \d+ tokens recorded in analytics/);
      const doc = readFileSync(join(r.home, 'workspace', 'implementation', r.task.id, 'document.md'), 'utf8');
      expect(doc).toContain('DEMO provider (canned replies, not a real model)');
      expect(existsSync(join(r.home, 'completed_archive', r.task.id, 'task.json'))).toBe(true);
      expect(out).toContain(`remove it with rm -rf ${r.home}`);
    } finally {
      rmSync(r.home, { recursive: true, force: true });
    }
  });

  it('a demo that fails (its port is taken) leaves no temporary home behind', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()));
    const port = (blocker.address() as AddressInfo).port;
    const tmp = mkdtempSync(join(tmpdir(), 'cco-demo-test-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await expect(runDemo({ requirement: 'x', port, print: () => undefined })).rejects.toThrow(/already in use[\s\S]*cco demo --port/);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      blocker.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/** A child process run to its end without blocking this process (the daemon lives here). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 30_000);
    c.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('the README examples (examples/pipeline) against a running daemon', () => {
  it('submit.sh waits for the files; watch.mjs prints the live stream; bad input is reported', async () => {
    const r = await runDemo({ requirement: 'warm up', keep: true, print: () => undefined });
    try {
      const env = { ...process.env, CCO_URL: r.daemonUrl, CCO_TOKEN: r.accessToken };
      const sh = await run('sh', [join(ROOT, 'examples/pipeline/submit.sh'), 'a landing page for a "bakery"', '3'], env);
      expect(sh.status, sh.stderr).toBe(0);
      expect(sh.stdout).toMatch(/📝 Task t_\w+ queued[\s\S]*✅ Completed: "index.html","README.md"/);
      const bad = await run('sh', [join(ROOT, 'examples/pipeline/submit.sh'), '   '], env);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('body.requirement: requirement must not be empty');
      const js = await run(process.execPath, [join(ROOT, 'examples/pipeline/watch.mjs'), 'a bar chart of monthly rainfall', '7'], env);
      expect(js.status, js.stderr).toBe(0);
      expect(js.stdout).toMatch(/\[agent\] .*: Working[\s\S]*\[file\] .*image\.svg[\s\S]*\[task\] {2}archived → completed/);
    } finally {
      await r.close();
      rmSync(r.home, { recursive: true, force: true });
    }
  });
});
