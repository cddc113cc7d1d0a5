/**
 * A word for a POSIX shell command line (`sh -c`): as it is when it has nothing the shell would
 * read, else in single quotes. Claude Code runs a hook's `command` through the shell: an install
 * path with a space in it (`/home/me/My Tools/cco`) split into two words.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_/.:=@%+,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
