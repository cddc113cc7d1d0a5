import { describe, expect, it } from 'vitest';
import { detectOutputFormat, formatProblem, isWeakRequirement, stageOfSystemPrompt, systemPrompt, userPrompt } from './prompts.js';

describe('prompts', () => {
  it.each([
    ['an SVG logo for a coffee shop', 'svg'],
    ['draw a diagram of the request flow', 'svg'],
    ['a web page with a chart of sales', 'html'],
    ['a landing page for a bakery', 'html'],
    ['write documentation for the deploy process', 'markdown'],
    ['a user guide for the CLI code', 'code'],
    ['a Python script that sums a CSV column', 'code'],
  ])('detects the output format of %j', (text, format) => {
    expect(detectOutputFormat(text)).toBe(format);
  });

  it('calls short requirements weak', () => {
    expect(isWeakRequirement('a todo app', 12)).toBe(true);
    expect(isWeakRequirement('Build a todo app in TypeScript with add, complete and delete, persisted to local storage, with tests', 12)).toBe(false);
    expect(isWeakRequirement('anything', 0)).toBe(false);
  });

  it('checks files against the format', () => {
    expect(formatProblem('svg', [{ path: 'a.png' }])).toBe('output format svg needs at least one .svg or .html or .htm file');
    expect(formatProblem('svg', [{ path: 'x/LOGO.SVG' }])).toBeUndefined();
    expect(formatProblem('code', [{ path: 'x.txt' }])).toBeUndefined();
  });

  it('marks the stage in the system prompt and passes earlier outputs on, within the budget', () => {
    const sys = systemPrompt('validation', 'You review.', 'html');
    expect(stageOfSystemPrompt(sys)).toBe('validation');
    expect(stageOfSystemPrompt([{ type: 'text', text: sys }])).toBe('validation');
    expect(stageOfSystemPrompt('hello')).toBeUndefined();
    expect(sys).toContain('"passed"');
    const ctx = { requirement: 'R', enhanced: 'E', format: 'html' as const, outputs: { analysis: { summary: 's', output_format: 'html' as const, components: [], steps: ['x'], acceptance_criteria: [], files_planned: [] }, implementation: { files: [{ path: 'index.html', content: 'y'.repeat(500) }], notes: '' } }, maxChars: 300 };
    const u = userPrompt('validation', ctx);
    expect(u).toMatch(/^## Requirement\nR\n\n## Enhanced requirement \(use this\)\nE\n\n## Output format\nhtml\n\n## Output of the analysis stage/);
    expect(u).toContain('## Output of the implementation stage');
    expect(u).toContain('(truncated to the context budget)');
    expect(userPrompt('analysis', ctx)).not.toContain('Output of the analysis stage');
  });
});
