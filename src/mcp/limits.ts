/** The largest JSON-RPC message body the daemon's `/mcp` takes (a 413 beyond); `cco mcp` refuses a larger one itself. */
export const MCP_BODY_LIMIT = 4 * 1024 * 1024;
