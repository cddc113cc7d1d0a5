/**
 * The URL this machine's clients reach a server on: a wildcard bind (`0.0.0.0`, `::`) is reached
 * on 127.0.0.1, and an IPv6 address goes in brackets (`http://::1:3001` is not a URL).
 */
export function localUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`;
}
