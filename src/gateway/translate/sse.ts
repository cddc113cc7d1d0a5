import { StringDecoder } from 'node:string_decoder';

/** One parsed SSE event: its `event:` name (if any) and its joined `data:` lines. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Splits an SSE byte stream into events, across chunk boundaries. */
export class SseSplitter {
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');

  push(chunk: Buffer): SseEvent[] {
    this.buf += this.decoder.write(chunk);
    if (this.buf.includes('\r')) this.buf = this.buf.replace(/\r\n?/g, '\n');
    const out: SseEvent[] = [];
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (event !== undefined || data.length) out.push({ event, data: data.join('\n') });
    }
    return out;
  }
}

export const sseFrame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
export const sseData = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

export function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
