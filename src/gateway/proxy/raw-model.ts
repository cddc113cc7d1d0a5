/**
 * The request body as received with only its top-level `"model"` value replaced (a route's
 * `model`, or a fallback model). Re-serialising the parsed body instead changed what the client
 * sent: integers past 2^53 rounded, `1.10` became `1.1`, duplicate keys merged. Returns undefined
 * when the body has no top-level string `model` to replace (the caller then re-serialises).
 */
export function withModel(raw: string, model: string): string | undefined {
  const spans: [number, number][] = [];
  let depth = 0;
  const endOfString = (from: number): number => {
    let i = from + 1;
    while (i < raw.length && raw.charCodeAt(i) !== 0x22) i += raw.charCodeAt(i) === 0x5c ? 2 : 1;
    return i;
  };
  const skipSpace = (from: number): number => {
    let i = from;
    while (i < raw.length && ' \t\n\r'.includes(raw[i] as string)) i++;
    return i;
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x22) {
      const end = endOfString(i);
      if (depth === 1) {
        const colon = skipSpace(end + 1);
        if (raw[colon] === ':' && raw.slice(i + 1, end) === 'model') {
          const v = skipSpace(colon + 1);
          if (raw[v] !== '"') return undefined;
          const vEnd = endOfString(v);
          // every top-level "model" (with duplicate keys the last one counts for a parser)
          spans.push([v, vEnd + 1]);
          i = vEnd;
          continue;
        }
      }
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  if (spans.length === 0) return undefined;
  let out = raw;
  const value = JSON.stringify(model);
  for (let k = spans.length - 1; k >= 0; k--) {
    const [a, b] = spans[k] as [number, number];
    out = out.slice(0, a) + value + out.slice(b);
  }
  return out;
}
