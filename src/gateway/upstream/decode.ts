import { pipeline, Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { UpstreamResponse } from './client.js';
import type { UpstreamBody } from './body.js';

/** A complete answer decompressed is at most this big. */
const MAX_DECODED_BYTES = 256 * 1024 * 1024;

/**
 * The answer's body as the provider meant it. The gateway asks for `accept-encoding: identity`,
 * but a proxy in between (or a server that ignores it) may compress anyway; the relay drops the
 * `content-encoding` header, so compressed bytes reached the client as garbage and the usage
 * was never read. Such a body is decompressed here; any other is returned as it is.
 */
export function decodedBody(up: UpstreamResponse): UpstreamBody {
  const enc = String(up.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = enc === 'gzip' || enc === 'x-gzip' ? createGunzip() : enc === 'deflate' ? createInflate() : enc === 'br' ? createBrotliDecompress() : undefined;
  if (!decoder) return up.body;
  // pipeline, not pipe: the body's failure (a cut, a timeout, the client leaving) must reach the
  // reader as the decoder's error (pipe left it unhandled, and it ended the process), and a
  // reader that stops early must stop the body, and with it the upstream request
  const out = pipeline(Readable.from(up.body), decoder, () => undefined);
  return {
    [Symbol.asyncIterator]: () => out[Symbol.asyncIterator]() as AsyncIterator<Buffer>,
    async bytes() {
      const parts: Buffer[] = [];
      let n = 0;
      for await (const c of out) {
        n += (c as Buffer).length;
        // a few KB that inflate to gigabytes must not take the gateway's memory with them
        if (n > MAX_DECODED_BYTES) throw Object.assign(new Error(`decompressed answer over ${MAX_DECODED_BYTES / 1024 / 1024} MB`), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' });
        parts.push(c as Buffer);
      }
      return Buffer.concat(parts);
    },
    dump: () => up.body.dump(),
  };
}
