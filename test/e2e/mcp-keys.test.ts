import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, callError, httpClient, startMcpDaemon, VIEWER_KEY } from './mcp-harness.js';

/** A second key of tenant `viewer`, reaching every issue (the harness's viewer key reaches `issue-7` only). */
const WIDE_KEY = 'viewer-wide-key-0123456789abcdef';

let d: Awaited<ReturnType<typeof startMcpDaemon>>;
beforeAll(async () => {
  d = await startMcpDaemon(`
[[mcp.keys]]
tenant = "viewer"
key = "${WIDE_KEY}"
issues = "*"
admin = true
`);
});
afterAll(async () => d?.cleanup());

describe('MCP keys of one tenant with different rights', () => {
  it("each key's sidecar calls keep its own issue scope, whichever key of the tenant called first", async () => {
    const wide = await httpClient(d.daemon.url, WIDE_KEY, { 'x-tenant-id': 'viewer' });
    const narrow = await httpClient(d.daemon.url, VIEWER_KEY, { 'x-tenant-id': 'viewer' });
    try {
      const type = (await call<{ agents: { name: string }[] }>(wide, 'list_agents')).agents[0]?.name as string;
      await call(wide, 'store_result', { issue_id: 'issue-2', agent_type: type, result: { status: 'success', summary: 'the wide key stored this' } });
      // was: the token minted for the wide key, reused for the narrow one (same tenant and agent type)
      expect(await callError(narrow, 'get_context', { issue_id: 'issue-2', agent_type: type })).toMatch(/403.*issue-2/);
      expect(await callError(narrow, 'store_result', { issue_id: 'issue-2', agent_type: type, result: { status: 'success', summary: 'over it' } })).toMatch(/403.*issue-2/);
      // and the reverse: the narrow key first does not narrow the wide one
      const other = (await call<{ agents: { name: string }[] }>(wide, 'list_agents')).agents[1]?.name as string;
      expect(await callError(narrow, 'get_context', { issue_id: 'issue-3', agent_type: other })).toMatch(/403/);
      await call(wide, 'get_context', { issue_id: 'issue-3', agent_type: other });
    } finally {
      await wide.close();
      await narrow.close();
    }
  });

  it("a session acts with the key that opened it: another key of the tenant presenting its id is refused", async () => {
    const admin = await httpClient(d.daemon.url, WIDE_KEY, { 'x-tenant-id': 'viewer' });
    try {
      const sid = (admin.transport as unknown as { sessionId?: string }).sessionId as string;
      expect(sid).toBeTruthy();
      const r = await fetch(`${d.daemon.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${VIEWER_KEY}`, 'x-tenant-id': 'viewer', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'reset_circuit_breaker', arguments: { service: 'anthropic' } } }),
      });
      // was: the viewer's call ran with the admin key's rights
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/opened with another key/);
    } finally {
      await admin.close();
    }
  });
});
