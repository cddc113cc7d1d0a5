import { describe, expect, it } from 'vitest';
import { clientKeyPolicy, relayHeaders } from './headers.js';

describe('relayHeaders (upstream answer → client)', () => {
  it('keeps what describes the answer, drops hop-by-hop headers and what belongs to the provider\'s edge', () => {
    const out = relayHeaders({
      'content-type': 'text/event-stream; charset=utf-8',
      'request-id': 'req_1',
      'anthropic-ratelimit-requests-remaining': '99',
      'retry-after': '3',
      connection: 'keep-alive, x-edge-trace',
      'x-edge-trace': 'abc',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'content-length': '10',
      'set-cookie': ['__cf_bm=1; Domain=.anthropic.com'],
      'alt-svc': 'h3=":443"',
      'proxy-authenticate': 'Basic',
      server: 'cloudflare',
    });
    expect(out).toEqual({ 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_1', 'anthropic-ratelimit-requests-remaining': '99', 'retry-after': '3' });
  });
});

describe('clientKeyPolicy', () => {
  const anthropicApi = { origin: 'https://api.anthropic.com', format: 'anthropic' as const };
  const openaiApi = { origin: 'https://api.openai.com', format: 'openai' as const };
  const deepseek = { origin: 'https://api.deepseek.com', format: 'openai' as const };
  const ollama = { origin: 'http://127.0.0.1:11434', format: 'openai' as const };
  const anthropicProxy = { origin: 'https://llm.corp.example', format: 'anthropic' as const };
  it('sends a key that names its provider to that provider only', () => {
    expect(clientKeyPolicy('sk-ant-api03-x', anthropicApi)).toBe('pass');
    expect(clientKeyPolicy('sk-ant-api03-x', openaiApi)).toBe('refuse');
    expect(clientKeyPolicy('sk-proj-abc', openaiApi)).toBe('pass');
    expect(clientKeyPolicy('sk-proj-abc', deepseek)).toBe('refuse');
    expect(clientKeyPolicy('AIzaSyX', anthropicApi)).toBe('refuse');
  });
  it('judges an unknown host by its wire format, and leaves out a key of the other format', () => {
    expect(clientKeyPolicy('sk-ant-api03-x', ollama)).toBe('drop');
    expect(clientKeyPolicy('sk-ant-api03-x', anthropicProxy)).toBe('pass');
    expect(clientKeyPolicy('sk-proj-abc', ollama)).toBe('pass');
  });
  it('passes keys that name no provider (a gateway key, a DeepSeek key)', () => {
    expect(clientKeyPolicy('sk-0123456789abcdef', deepseek)).toBe('pass');
    expect(clientKeyPolicy('team-key', openaiApi)).toBe('pass');
  });
});
