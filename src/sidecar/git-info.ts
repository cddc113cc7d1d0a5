import { execFile } from 'node:child_process';

export interface Commit {
  hash: string;
  author: string;
  date: string;
  subject: string;
}

function git(root: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', root, ...args], { timeout: 3000, maxBuffer: 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}

/** The last `n` commits of the project (empty when it is not a git repository). */
export async function recentCommits(root: string, n = 15): Promise<{ branch: string | null; commits: Commit[] }> {
  const [log, branch] = await Promise.all([
    git(root, ['log', `-n${n}`, '--no-color', '--date=iso-strict', '--pretty=format:%h%x1f%an%x1f%ad%x1f%s']),
    git(root, ['rev-parse', '--abbrev-ref', 'HEAD']),
  ]);
  const commits = (log ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash = '', author = '', date = '', subject = ''] = line.split('\x1f');
      return { hash, author, date, subject };
    });
  return { branch: branch?.trim() || null, commits };
}
