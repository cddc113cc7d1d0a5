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

  it("cuts an object field's JSON text, and never inside a character", () => {
    const p = { tool_response: { file: { filePath: '/big', content: 'é'.repeat(10) + '😀'.repeat(100) } } };
    const s = storedPayload(p, 101);
    const text = s.tool_response as string;
    expect(text.startsWith('{"file":{"filePath":"/big"')).toBe(true);
    const kept = text.slice(0, text.indexOf('…[truncated'));
    expect(kept).not.toMatch(/\uFFFD|[\uD800-\uDBFF]$/);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(101);
    const total = Buffer.byteLength(JSON.stringify(p.tool_response));
    expect(text).toContain(`${total - Buffer.byteLength(kept)} of ${total} bytes cut]`);
  });
});
