import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { bodyError, invalidToolCall, requestIds } from './rpc-errors.js';

describe('invalidToolCall', () => {
  it('answers a tools/call without params, without a name, or with non-object arguments with one -32602 sentence', () => {
    expect(invalidToolCall({ jsonrpc: '2.0', id: 3, method: 'tools/call' })).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32602, message: expect.stringMatching(/^tools\/call needs params .*params is missing\.$/) } });
    expect(invalidToolCall({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { arguments: {} } })?.error.message).toMatch(/params\.name.*missing/);
    expect(invalidToolCall({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'cache_stats', arguments: null } })).toMatchObject({ id: 4, error: { code: -32602, message: expect.stringMatching(/arguments must be an object.*it is null\.$/) } });
    expect(invalidToolCall({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'x', arguments: [1] } })?.error.message).toMatch(/an array/);
  });

  it('leaves valid calls and other methods to the SDK', () => {
    expect(invalidToolCall({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cache_stats' } })).toBeUndefined();
    expect(invalidToolCall({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cache_stats', arguments: {} } })).toBeUndefined();
    expect(invalidToolCall({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBeUndefined();
    expect(invalidToolCall([{ method: 'tools/call' }])).toBeUndefined();
  });
});

describe('bodyError', () => {
  const fastify = (code: string, statusCode: number, message = 'x') => Object.assign(new Error(message), { code, statusCode });

  it('answers an unreadable body with JSON-RPC -32700, and the size limit in the 413', () => {
    expect(bodyError(fastify('FST_ERR_CTP_INVALID_JSON_BODY', 400, "Body is not valid JSON but content-type is set to 'application/json'"), 4 << 20)).toEqual({
      status: 400,
      body: { jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error: the request body is not valid JSON/) } },
    });
    const big = bodyError(fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413), 4 * 1024 * 1024);
    expect(big.status).toBe(413);
    expect(big.body.error).toEqual({ code: -32700, message: expect.stringContaining('larger than the 4 MB limit of /mcp') });
    const deep = bodyError(new AppError(400, 'invalid_request', 'body: JSON nested deeper than 64 levels is not accepted'), 1);
    expect(deep).toMatchObject({ status: 400, body: { error: { code: -32700, message: 'Parse error: body: JSON nested deeper than 64 levels is not accepted' } } });
    expect(bodyError(fastify('FST_ERR_CTP_EMPTY_JSON_BODY', 400), 1).body.error.code).toBe(-32700);
    expect(bodyError(fastify('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 1).status).toBe(415);
  });

  it("the front door's refusals keep their status and words, not 'Parse error'", () => {
    const host = bodyError(new AppError(403, 'host_not_allowed', 'Host evil.example is not allowed; use http://127.0.0.1:3000'), 1);
    expect(host).toEqual({ status: 403, body: { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Host evil.example is not allowed; use http://127.0.0.1:3000' } } });
    expect(bodyError(new AppError(429, 'rate_limited', 'Too many requests'), 1).body.error.code).toBe(-32600);
  });

  it('anything else is an internal error that points at the log', () => {
    expect(bodyError(new Error('boom'), 1)).toEqual({ status: 500, body: { jsonrpc: '2.0', id: null, error: { code: -32603, message: expect.stringMatching(/cco daemon logs/) } } });
  });
});

it('requestIds lists the ids of requests only', () => {
  expect(requestIds({ jsonrpc: '2.0', id: 7, method: 'tools/call' })).toEqual([7]);
  expect(requestIds([{ id: 'a', method: 'x' }, { method: 'notifications/initialized' }, { id: 2, result: {} }])).toEqual(['a']);
  expect(requestIds(undefined)).toEqual([]);
});
