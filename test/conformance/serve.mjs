// Starts a real CCO daemon (from dist/, temp home, port 0) and a small front that adds the daemon's
// local access token as `Authorization: Bearer` to requests that carry none, because the conformance
// runner cannot send headers. The front forwards Host and Origin unchanged, except that its own
// address is translated to the daemon's, so the daemon's DNS-rebinding checks judge every request.
// Prints `URL <front>/mcp` when ready; stops on SIGTERM/SIGINT.
import http from 'node:http';
import { URL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'cco-conformance-'));
const env = {
  ...process.env,
  CCO_HOME: join(root, 'home'),
  CCO_CONFIG_DIR: join(root, 'config'),
  CCO_TMPDIR: join(root, 'tmp'),
  CCO_RUNTIME_DIR: join(root, 'run'),
  CCO_LOG_LEVEL: 'warn',
};
delete env.DATABASE_URL;
delete env.REDIS_URL;

const { startDaemon } = await import(new URL('../../dist/daemon/daemon.js', import.meta.url).href);
const daemon = await startDaemon({ env, port: 0, host: '127.0.0.1' });
const target = new URL(daemon.url);

const front = http.createServer((req, res) => {
  const own = `127.0.0.1:${front.address().port}`;
  const headers = { ...req.headers };
  if (headers.host === own || headers.host === `localhost:${front.address().port}`) headers.host = target.host;
  if (headers.origin === `http://${own}` || headers.origin === `http://localhost:${front.address().port}`) headers.origin = `http://${target.host}`;
  if (!headers.authorization) headers.authorization = `Bearer ${daemon.accessToken}`;
  const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
});
await new Promise((r) => front.listen(0, '127.0.0.1', r));
process.stdout.write(`URL http://127.0.0.1:${front.address().port}/mcp\n`);

const stop = async () => {
  front.closeAllConnections?.();
  front.close();
  await daemon.close();
  rmSync(root, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
