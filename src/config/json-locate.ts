/**
 * Finds where JSON text goes wrong (character offset) and a likely cause. JSON.parse's own
 * messages differ between Node versions and do not always carry a position, so a small strict
 * scanner walks the text once (only on the error path).
 */
export interface JsonFault {
  offset: number;
  cause: string;
  /** Set when the fault is a key given twice in one object (only looked for with `duplicateKeys`). */
  duplicateKey?: string;
}

/**
 * `duplicateKeys`: also refuse a key given twice in one object, which JSON.parse accepts, keeping
 * the last one without a word (two "routes" lost the first silently).
 */
export function locateJsonError(text: string, o: { duplicateKeys?: boolean } = {}): JsonFault | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fault = (cause: string, at = i, duplicateKey?: string): never => {
    throw { offset: at, cause, ...(duplicateKey !== undefined ? { duplicateKey } : {}) } satisfies JsonFault;
  };
  const str = () => {
    if (text[i] === "'") fault("single quotes (JSON needs double quotes) — replace ' with \"");
    if (text[i] !== '"') fault('expected a double-quoted string');
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text[i] as string;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fault('\\u must be followed by four hex digits');
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        // a regex in a pattern is the usual case: "^claude-\d" must be written "^claude-\\d"
        else fault(`invalid escape \\${e ?? ''} in a string — write a backslash as \\\\ (e.g. "\\\\d" in a regex)`);
      } else if (c === '\n') fault('a string is not closed on its line');
      else if (c < ' ') fault(`a control character (${JSON.stringify(c)}) inside a string — write it escaped (\\t, \\n)`);
      i++;
    }
    if (i >= text.length) fault('unexpected end of file inside a string');
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === undefined) fault('unexpected end of file — a bracket or brace is not closed');
    if (c === '{') return obj();
    if (c === '[') return arr();
    if (c === '"' || c === "'") return str();
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fault(`unexpected character ${JSON.stringify(c)}`);
    i += (m as RegExpExecArray)[0].length;
  };
  const obj = () => {
    const keys = new Set<string>();
    i++;
    ws();
    if (text[i] === '}') return void i++;
    for (;;) {
      ws();
      if (text[i] === '}') fault('trailing comma before a closing brace (not allowed in JSON) — remove the last comma');
      const at = i;
      str();
      if (o.duplicateKeys) {
        const name = JSON.parse(text.slice(at, i)) as string;
        if (keys.has(name)) fault(`duplicate key ${JSON.stringify(name)} in the same object (JSON keeps only the last one, silently) — remove one or merge them`, at, name);
        keys.add(name);
      }
      ws();
      if (text[i] !== ':') fault('missing colon between a key and its value — write "key": value');
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') return void i++;
      if (text[i] === undefined) fault('unexpected end of file — a brace is not closed');
      fault('missing comma between two entries');
    }
  };
  const arr = () => {
    i++;
    ws();
    if (text[i] === ']') return void i++;
    for (;;) {
      ws();
      if (text[i] === ']') fault('trailing comma before a closing bracket (not allowed in JSON) — remove the last comma');
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') return void i++;
      if (text[i] === undefined) fault('unexpected end of file — a bracket is not closed');
      fault('missing comma between two entries');
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fault('unexpected text after the end of the JSON value');
    return undefined;
  } catch (e) {
    if (e && typeof e === 'object' && 'offset' in e) return e as JsonFault;
    throw e;
  }
}
