import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/pipeline/demo.js';

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
    } finally {
      rmSync(r.home, { recursive: true, force: true });
    }
  });
});
