import { describe, expect, it } from 'vitest';
import { hash } from 'node:crypto';
import { cacheKey, differingFields, digest } from './key.js';

const headers = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-secret-key-1234567890' };
const body = {
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'A question long enough to be digested rather than kept as it is' }],
  metadata: { user_id: 'session-1' },
};

describe('cacheKey', () => {
  it('is the same for the same request, whatever the field order and the ignored fields', () => {
    const a = cacheKey('anthropic:messages', body, headers);
    const b = cacheKey('anthropic:messages', { metadata: { user_id: 'session-2' }, messages: body.messages, max_tokens: 64, model: body.model }, headers);
    expect(b.key).toBe(a.key);
    expect(b.fields).toEqual(a.fields);
  });

  it.each([
    ['body.model', { ...body, model: 'claude-opus-4-1' }, headers],
    ['body.max_tokens', { ...body, max_tokens: 65 }, headers],
    ['body.messages', { ...body, messages: [{ role: 'user', content: 'A different question, also long enough to be digested' }] }, headers],
    ['body.temperature', { ...body, temperature: 0 }, headers],
    ['header:anthropic-version', body, { ...headers, 'anthropic-version': '2024-01-01' }],
    ['header:anthropic-beta', body, { ...headers, 'anthropic-beta': 'tools-2024' }],
    ['credentials', body, { ...headers, 'x-api-key': 'sk-ant-another-key' }],
  ])('changes with %s, and /api/cache/debug names it', (field, b, h) => {
    const a = cacheKey('anthropic:messages', body, headers);
    const k = cacheKey('anthropic:messages', b as Record<string, unknown>, h);
    expect(k.key).not.toBe(a.key);
    expect(differingFields(a.fields, k.fields)).toEqual([field]);
  });

  it('changes with the query string, whatever the order of its parameters, and /api/cache/debug names it', () => {
    const plain = cacheKey('openai:chat_completions', body, headers);
    const v1 = cacheKey('openai:chat_completions', body, headers, '?api-version=2024-10-21&beta=true');
    const v1again = cacheKey('openai:chat_completions', body, headers, '?beta=true&api-version=2024-10-21');
    const v2 = cacheKey('openai:chat_completions', body, headers, '?api-version=2025-01-01&beta=true');
    expect(v1.key).not.toBe(plain.key);
    expect(v1again.key).toBe(v1.key);
    expect(v2.key).not.toBe(v1.key);
    expect(differingFields(v1.fields, v2.fields)).toEqual(['query']);
    expect(differingFields(plain.fields, v1.fields)).toEqual(['query']);
    // a bare '?' is no query
    expect(cacheKey('openai:chat_completions', body, headers, '?').key).toBe(plain.key);
  });

  it('changes with the endpoint', () => {
    expect(cacheKey('anthropic:count_tokens', body, headers).key).not.toBe(cacheKey('anthropic:messages', body, headers).key);
  });

  it('keeps short values as they are, digests long ones, and never shows the credentials', () => {
    const k = cacheKey('anthropic:messages', body, headers);
    expect(k.fields['body.model']).toBe('="claude-sonnet-4-5"');
    expect(k.fields['body.max_tokens']).toBe('=64');
    expect(k.fields['body.messages']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(k.fields.credentials).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(k)).not.toContain('secret');
  });

  it('cannot be forged by a body field whose name holds the separators', () => {
    const plain = cacheKey('e', { a: 1, b: 2 }, {});
    const forged = cacheKey('e', { 'a\u0000=1\u0001body.b': 2 }, {});
    expect(forged.key).not.toBe(plain.key);
  });

  it('digests are the base64url SHA-256', () => {
    for (const v of ['', 'a', 'é and 𝄞', 'x'.repeat(10_000), JSON.stringify(body)]) expect(digest(v)).toBe(hash('sha256', v, 'base64url'));
  });
});
