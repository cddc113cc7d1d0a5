import { StringDecoder } from 'node:string_decoder';

/** One parsed SSE event: its `event:` name (if any) and its joined `data:` lines. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Decodes an SSE byte stream to text with every line ending (CRLF, CR, LF) made LF, across
 * chunk boundaries: a chunk cut inside a UTF-8 character or between a CR and its LF reads the
 * same as the whole stream.
 */
export class SseText {
  private readonly decoder = new StringDecoder('utf8');
  /** The previous chunk ended with a CR, already given out as a line end: an LF that starts the next chunk belongs to it. */
  private skipLf = false;

  push(chunk: Buffer): string {
    let text = this.decoder.write(chunk);
    // (An empty text is the start of a character cut by the chunk: the LF may still come.)
    if (this.skipLf && text.length > 0) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    if (!text.includes('\r')) return text;
    // A CR that ends the chunk ends its line now (a stream may end on it); see skipLf.
    if (text.endsWith('\r')) this.skipLf = true;
    return text.replace(/\r\n?/g, '\n');
  }
}

/** One event block (its lines, LF-separated, without the blank line): undefined when it has no event and no data. */
export function sseEvent(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return event !== undefined || data.length ? { event, data: data.join('\n') } : undefined;
}

/** Splits an SSE byte stream into events, across chunk boundaries. */
export class SseSplitter {
  private buf = '';
  private readonly text = new SseText();

  push(chunk: Buffer): SseEvent[] {
    const buf = this.buf + this.text.push(chunk);
    const out: SseEvent[] = [];
    let pos = 0;
    let end: number;
    while ((end = buf.indexOf('\n\n', pos)) >= 0) {
      const e = sseEvent(buf.slice(pos, end));
      if (e) out.push(e);
      pos = end + 2;
    }
    this.buf = pos === 0 ? buf : buf.slice(pos);
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
