/**
 * Glob matching for the catalog's context rules (`**\/*.py`, `src/**`, `*.{ts,tsx}`,
 * `**\/Dockerfile`). Node's path.matchesGlob is still experimental on 20 (it warns), so a small
 * converter to RegExp does the job; paths are POSIX-style and relative to the project root.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  let inBraces = 0;
  while (i < glob.length) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atSegStart = i === 0 || glob[i - 1] === '/';
        const atSegEnd = glob[i + 2] === '/' || i + 2 === glob.length;
        if (atSegStart && atSegEnd) {
          // `**/` matches zero or more whole directories; a trailing `**` matches everything below
          if (glob[i + 2] === '/') {
            re += '(?:[^/]+/)*';
            i += 3;
          } else {
            re += '.*';
            i += 2;
          }
          continue;
        }
        re += '[^/]*';
        i += 2;
        continue;
      }
      re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      inBraces++;
      re += '(?:';
    } else if (c === '}' && inBraces > 0) {
      inBraces--;
      re += ')';
    } else if (c === ',' && inBraces > 0) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
    i++;
  }
  return new RegExp(`^${re}$`);
}

/** A matcher over several globs; a glob without `/` also matches the file's base name. */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  const res = globs.map((g) => ({ re: globToRegExp(g), base: !g.includes('/') }));
  return (path) => {
    const base = path.slice(path.lastIndexOf('/') + 1);
    return res.some(({ re, base: b }) => re.test(path) || (b && re.test(base)));
  };
}
