import { describe, expect, it } from 'vitest';
import { relayHeaders } from './headers.js';

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
