import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

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

/**
 * The folders whose changes mean new commits or another branch: the repository's git folder for
 * this work tree and the common one (they differ in a `git worktree`; a project in a subfolder of
 * a repository has no `.git` of its own), with the common one's `refs/heads`. Empty outside git.
 */
export async function gitWatchDirs(root: string): Promise<string[]> {
  const out = await git(root, ['rev-parse', '--absolute-git-dir', '--git-common-dir']);
  const [gitDir, common] = (out ?? '').split('\n').map((l) => l.trim());
  if (!gitDir) return [];
  const commonDir = common ? resolve(root, common) : gitDir;
  return [...new Set([gitDir, commonDir, join(commonDir, 'refs', 'heads')])];
}
