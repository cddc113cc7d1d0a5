import type { Readable, Writable } from 'node:stream';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface BridgeOptions {
  /** The daemon's MCP endpoint, e.g. http://127.0.0.1:3000/mcp. */
  url: string;
  /** Bearer key sent with every request. */
  key: string;
  stdin?: Readable;
  stdout?: Writable;
  /** Diagnostics (stderr); stdout carries the protocol only. */
  log?: (line: string) => void;
}

/**
 * `cco mcp`: the daemon's MCP server over stdio. Every JSON-RPC message from stdin is forwarded to
 * `/mcp` (Streamable HTTP, same session, same key) and every message from the daemon is written to
 * stdout, so a stdio client gets exactly the daemon's tools. Resolves when stdin closes.
 */
export function bridgeStdioToHttp(o: BridgeOptions): Promise<void> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const http = new StreamableHTTPClientTransport(new URL(o.url), { requestInit: { headers: { authorization: `Bearer ${o.key}` } } });
  const stdio = new StdioServerTransport(o.stdin, o.stdout);
  const initIds = new Set<string | number>();

  return new Promise<void>((resolve, reject) => {
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await http.close().catch(() => undefined);
      await stdio.close().catch(() => undefined);
      resolve();
    };
    stdio.onmessage = (m: JSONRPCMessage) => {
      if ('method' in m && m.method === 'initialize' && 'id' in m && m.id !== undefined) initIds.add(m.id);
      http.send(m).catch((e: unknown) => {
        const message = `cco daemon at ${o.url}: ${(e as Error).message}`;
        log(`❌ ${message}`);
        if ('id' in m && m.id !== undefined && 'method' in m) void stdio.send({ jsonrpc: '2.0', id: m.id, error: { code: -32000, message } });
      });
    };
    http.onmessage = (m: JSONRPCMessage) => {
      // The version negotiated at initialize goes on every later request (MCP-Protocol-Version).
      if ('id' in m && m.id !== undefined && initIds.has(m.id) && 'result' in m) {
        initIds.delete(m.id);
        const v = (m.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof v === 'string') http.setProtocolVersion(v);
      }
      void stdio.send(m);
    };
    http.onerror = (e) => log(`⚠️  ${e.message}`);
    stdio.onerror = (e) => log(`⚠️  stdin: ${e.message}`);
    stdio.onclose = () => void close();
    (o.stdin ?? process.stdin).once('end', () => void close());
    http
      .start()
      .then(() => stdio.start())
      .catch(reject);
  });
}
