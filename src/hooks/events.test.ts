import { describe, expect, it } from 'vitest';
import { STORED_FIELD_MAX_BYTES, storedPayload } from './events.js';

describe('storedPayload', () => {
  it('keeps a payload whose fields fit, as the same object', () => {
    const p = { session_id: 's', tool_input: { file_path: '/x' }, tool_response: 'y'.repeat(STORED_FIELD_MAX_BYTES) };
    expect(storedPayload(p)).toBe(p);
  });

  it('cuts a long string field to the limit and says how many bytes were cut', () => {
    const p = { tool_name: 'Bash', tool_response: 'x'.repeat(1024 * 1024) };
    const s = storedPayload(p);
    const cut = s.tool_response as string;
    expect(cut.startsWith('x'.repeat(STORED_FIELD_MAX_BYTES))).toBe(true);
    expect(cut).toMatch(new RegExp(`…\\[truncated: ${1024 * 1024 - STORED_FIELD_MAX_BYTES} of ${1024 * 1024} bytes cut\\]$`));
    expect(s.tool_name).toBe('Bash');
    // the caller's object is untouched: only what is stored is cut
    expect((p.tool_response).length).toBe(1024 * 1024);
  });

  it('cuts the long strings inside an object field, keeping its shape (which file was written stays readable), never inside a character', () => {
    const p = { tool_input: { file_path: '/big', content: 'é'.repeat(10) + '😀'.repeat(100) } };
    const s = storedPayload(p, 101);
    const input = s.tool_input as { file_path: string; content: string };
    expect(input.file_path).toBe('/big');
    const kept = input.content.slice(0, input.content.indexOf('…[truncated'));
    expect(kept).not.toMatch(/\uFFFD|[\uD800-\uDBFF]$/);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(101);
    const total = Buffer.byteLength(p.tool_input.content);
    expect(input.content).toContain(`${total - Buffer.byteLength(kept)} of ${total} bytes cut]`);
  });

  it('cuts a field of many short strings whole, as text', () => {
    const p = { tool_response: { files: Array.from({ length: 5000 }, (_, i) => `/repo/src/file-${i}.ts`) } };
    const s = storedPayload(p, 1000);
    const text = s.tool_response as string;
    expect(typeof text).toBe('string');
    expect(text.startsWith('{"files":["/repo/src/file-0.ts"')).toBe(true);
    expect(text).toMatch(/…\[truncated: \d+ of \d+ bytes cut\]$/);
  });

});
