import { gunzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { fileSetProblem, PREVIOUS_RUN_FILES, safeRelativePath, UnsafePathError, withReadme, Workspace } from './workspace.js';

const envs: { cleanup(): void }[] = [];
afterEach(() => envs.splice(0).forEach((e) => e.cleanup()));

function ws(): { w: Workspace; root: string } {
  const t = tempCcoEnv();
  envs.push(t);
  return { w: new Workspace(join(t.root, 'workspace'), join(t.root, 'archive')), root: t.root };
}

describe('safeRelativePath', () => {
  it('normalises harmless paths', () => {
    expect(safeRelativePath('./src//index.ts')).toBe('src/index.ts');
    expect(safeRelativePath('a\\b.txt')).toBe('a/b.txt');
  });
  it.each(['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\u0000b', '', '.git/config', '.', 'x/'.repeat(20) + 'y'])('refuses %j', (p) => {
    expect(() => safeRelativePath(p)).toThrow(UnsafePathError);
  });
  it('refuses a name the file system would refuse (bytes, not characters), with a short message', () => {
    const long = `${'é'.repeat(200)}.js`;
    expect(() => safeRelativePath(long)).toThrow(/^unsafe file path "é{60}…": the name "é{20}…" is 403 bytes in UTF-8; a file or folder name may have at most 200$/);
    expect(() => safeRelativePath(`src/${'d'.repeat(201)}/x.js`)).toThrow(/the name "d{20}…" is 201 bytes/);
    expect(safeRelativePath(`src/${'d'.repeat(200)}`)).toHaveLength(204);
    // the file really can be written: room is left for the temporary name beside it
    const { w } = ws();
    expect(readFileSync(w.writeFile('t_abcdefgh12', `${'ü'.repeat(100)}`, 'x'), 'utf8')).toBe('x');
  });
});

describe('fileSetProblem', () => {
  it('accepts distinct files, folders shared by several files', () => {
    expect(fileSetProblem(['src/a.js', 'src/lib/b.js', 'src/lib/c.js', 'README.md'])).toBeUndefined();
  });
  it("takes the implementer's own readme however it is written (no second README.md added)", () => {
    for (const readme of ['./README.md', 'readme.md', './/README.md']) expect(fileSetProblem(withReadme([readme, 'src/a.js'])), readme).toBeUndefined();
    expect(withReadme(['docs/README.md'])).toEqual(['docs/README.md', 'README.md']);
  });
  it.each([
    [['a', 'a/b.js'], '"a" is both a file and the folder of "a/b.js"; rename one of them'],
    [['a/b/c.js', 'a/b'], '"a/b" is both a file and the folder of "a/b/c.js"; rename one of them'],
    [['./x.js', 'x.js'], 'file "x.js" appears twice'],
    [['ok.js', '../x'], 'unsafe file path "../x": ".." is not allowed'],
    [withReadme(['README.md/x.js']), '"README.md" is both a file and the folder of "README.md/x.js"; rename one of them'],
  ])('refuses %j', (paths, problem) => {
    expect(fileSetProblem(paths)).toBe(problem);
  });
  it('names a long path short', () => {
    const dir = 'd'.repeat(150);
    expect(fileSetProblem([dir, `${dir}/x.js`])).toBe(`"${'d'.repeat(60)}…" is both a file and the folder of "${'d'.repeat(60)}…"; rename one of them`);
  });
});

describe('Workspace', () => {
  it('writes files inside the task folder only', () => {
    const { w } = ws();
    const p = w.writeFile('t_abcdefgh12', 'src/app.js', 'x');
    expect(readFileSync(p, 'utf8')).toBe('x');
    expect(p).toContain(join('implementation', 't_abcdefgh12', 'src', 'app.js'));
    expect(() => w.writeFile('t_abcdefgh12', '../escape.txt', 'x')).toThrow(UnsafePathError);
    expect(() => w.writeFile('../t', 'a', 'x')).toThrow(/invalid task id/);
  });

  it('refuses a write through a symlink that points outside', () => {
    const { w, root } = ws();
    const dir = w.taskDir('t_abcdefgh12');
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'outside'));
    symlinkSync(join(root, 'outside'), join(dir, 'link'));
    expect(() => w.writeFile('t_abcdefgh12', 'link/x.txt', 'x')).toThrow(/outside the task folder/);
    expect(existsSync(join(root, 'outside', 'x.txt'))).toBe(false);
  });

  it("a retried task's rerun that delivered no files keeps the earlier run's files in its archive (the retry removed them from the workspace)", () => {
    const { w } = ws();
    w.writeFile('t_aaaaaaaa09', 'main.js', 'console.log(1)');
    w.archive('t_aaaaaaaa09', { run: 1, status: 'completed' });
    w.removeTaskDir('t_aaaaaaaa09');
    // the rerun failed before its integration: no files
    const dest = w.archive('t_aaaaaaaa09', { run: 2, status: 'failed' }, { replace: true });
    expect(JSON.parse(readFileSync(join(dest, 'task.json'), 'utf8'))).toEqual({ run: 2, status: 'failed' });
    // was: gone with the earlier archive
    expect(readFileSync(join(dest, PREVIOUS_RUN_FILES, 'main.js'), 'utf8')).toBe('console.log(1)');
    // a second failed rerun still has them; a rerun that delivers files records its own
    w.archive('t_aaaaaaaa09', { run: 3, status: 'failed' }, { replace: true });
    expect(existsSync(join(dest, PREVIOUS_RUN_FILES, 'main.js'))).toBe(true);
    w.writeFile('t_aaaaaaaa09', 'main.js', 'console.log(4)');
    w.archive('t_aaaaaaaa09', { run: 4, status: 'completed' }, { replace: true });
    expect(readFileSync(join(dest, 'files', 'main.js'), 'utf8')).toBe('console.log(4)');
    expect(existsSync(join(dest, PREVIOUS_RUN_FILES))).toBe(false);
  });

  it('archives files and the record, and applies retention', () => {
    const { w } = ws();
    w.writeFile('t_aaaaaaaa01', 'a.md', '# a');
    const dest = w.archive('t_aaaaaaaa01', { id: 't_aaaaaaaa01' });
    expect(readFileSync(join(dest, 'files', 'a.md'), 'utf8')).toBe('# a');
    expect(JSON.parse(readFileSync(join(dest, 'task.json'), 'utf8'))).toEqual({ id: 't_aaaaaaaa01' });
    w.archive('t_aaaaaaaa02', {});
    w.archive('t_aaaaaaaa03', {});
    const old = (Date.now() - 40 * 86_400_000) / 1000;
    utimesSync(w.archiveDirOf('t_aaaaaaaa01'), old, old);
    // the ids removed: their task rows must stop naming the folders
    expect(w.cleanup({ archiveDays: 30, archiveMax: 0, workspaceDays: 0 })).toEqual({ archives: 1, workspaces: 0, archivedTasks: ['t_aaaaaaaa01'], workspaceTasks: [] });
    expect(existsSync(w.archiveDirOf('t_aaaaaaaa01'))).toBe(false);
    const older = (Date.now() - 60_000) / 1000;
    utimesSync(w.archiveDirOf('t_aaaaaaaa02'), older, older);
    expect(w.cleanup({ archiveDays: 0, archiveMax: 1, workspaceDays: 0 })).toMatchObject({ archives: 1, archivedTasks: ['t_aaaaaaaa02'] });
    const ws2 = w.taskDir('t_aaaaaaaa01');
    utimesSync(ws2, old, old);
    expect(w.cleanup({ archiveDays: 0, archiveMax: 0, workspaceDays: 7 })).toMatchObject({ workspaces: 1, workspaceTasks: ['t_aaaaaaaa01'] });
  });

  it('compresses archived files when asked (seed 002: archive compression) and keeps the archive under a size', () => {
    const { w } = ws();
    const big = 'hello bakery '.repeat(5000);
    w.writeFile('t_bbbbbbbb01', 'site/index.html', big);
    const dest = w.archive('t_bbbbbbbb01', { id: 't_bbbbbbbb01' }, { gzipLevel: 6 });
    const gz = readFileSync(join(dest, 'files', 'site', 'index.html.gz'));
    expect(gunzipSync(gz).toString('utf8')).toBe(big);
    expect(gz.length).toBeLessThan(big.length / 10);
    expect(existsSync(join(dest, 'files', 'site', 'index.html'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dest, 'task.json'), 'utf8'))).toEqual({ id: 't_bbbbbbbb01' });

    // three uncompressed archives of ~65 KB each; a 150 KB bound keeps the newest two
    for (const [i, id] of ['t_bbbbbbbb02', 't_bbbbbbbb03', 't_bbbbbbbb04'].entries()) {
      w.writeFile(id, 'page.html', big);
      w.archive(id, {});
      const t = (Date.now() - (10 - i) * 60_000) / 1000;
      utimesSync(w.archiveDirOf(id), t, t);
    }
    const older = (Date.now() - 3600_000) / 1000;
    utimesSync(w.archiveDirOf('t_bbbbbbbb01'), older, older);
    expect(w.cleanup({ archiveDays: 0, archiveMax: 0, archiveMaxBytes: 150_000, workspaceDays: 0 })).toMatchObject({ archives: 2, archivedTasks: ['t_bbbbbbbb02', 't_bbbbbbbb01'] });
    expect(['t_bbbbbbbb01', 't_bbbbbbbb02', 't_bbbbbbbb03', 't_bbbbbbbb04'].map((id) => existsSync(w.archiveDirOf(id)))).toEqual([false, false, true, true]);
  });

  it('builds an archive beside its place: a build that fails leaves nothing at the final path', () => {
    const { w, root } = ws();
    w.writeFile('t_cccccccc01', 'README.md', '# r');
    w.writeFile('t_cccccccc01', 'src/a.js', 'a');
    // gzip refuses level 42 halfway through the copy
    expect(() => w.archive('t_cccccccc01', { id: 't_cccccccc01' }, { gzipLevel: 42 })).toThrow();
    expect(existsSync(w.archiveDirOf('t_cccccccc01'))).toBe(false);
    expect(readdirSync(join(root, 'archive'))).toEqual([]);
    const dest = w.archive('t_cccccccc01', { id: 't_cccccccc01' });
    expect(readdirSync(join(root, 'archive'))).toEqual(['t_cccccccc01']);
    expect(readFileSync(join(dest, 'files', 'src', 'a.js'), 'utf8')).toBe('a');
  });

  it('replaces a half archive (no task.json) and keeps a complete one', () => {
    const { w } = ws();
    const half = w.archiveDirOf('t_cccccccc02');
    mkdirSync(join(half, 'files'), { recursive: true });
    writeFileSync(join(half, 'files', 'README.md'), 'half');
    w.writeFile('t_cccccccc02', 'README.md', '# whole');
    w.writeFile('t_cccccccc02', 'main.js', 'x');
    w.archive('t_cccccccc02', { v: 1 });
    expect(readFileSync(join(half, 'files', 'README.md'), 'utf8')).toBe('# whole');
    expect(readFileSync(join(half, 'files', 'main.js'), 'utf8')).toBe('x');
    expect(JSON.parse(readFileSync(join(half, 'task.json'), 'utf8'))).toEqual({ v: 1 });
    // archived again (two instances, or a kill before it was recorded): the complete one stays
    w.archive('t_cccccccc02', { v: 2 });
    expect(JSON.parse(readFileSync(join(half, 'task.json'), 'utf8'))).toEqual({ v: 1 });
  });

  it('leaves the temporary files of interrupted writes out of archives, and removes those of dead processes', () => {
    const { w, root } = ws();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    w.writeFile('t_cccccccc03', 'src/a.md', '# a');
    const dir = w.taskDir('t_cccccccc03');
    const deadTmp = join(dir, 'src', `.b.md.${dead}.0123abcd.tmp`);
    const liveTmp = join(dir, `.c.md.${process.pid}.89abcdef.tmp`);
    const oldOwnTmp = join(dir, `.d.md.${process.pid}.00000000.tmp`);
    for (const f of [deadTmp, liveTmp, oldOwnTmp]) writeFileSync(f, 'half');
    const hourAgo = (Date.now() - 2 * 3600_000) / 1000;
    utimesSync(oldOwnTmp, hourAgo, hourAgo);
    const deadBuild = join(root, 'archive', `.t_cccccccc04.${dead}.fedcba98.tmp`);
    mkdirSync(join(deadBuild, 'files'), { recursive: true });
    writeFileSync(join(deadBuild, 'files', 'README.md'), 'half');
    // an agent's own dot-file that merely ends in .tmp is kept
    w.writeFile('t_cccccccc03', '.cache.tmp', 'kept');

    const dest = w.archive('t_cccccccc03', {});
    expect(readdirSync(join(dest, 'files')).sort()).toEqual(['.cache.tmp', 'src']);
    expect(readdirSync(join(dest, 'files', 'src'))).toEqual(['a.md']);

    expect(w.removeStaleTemps()).toBe(3);
    expect([deadTmp, liveTmp, oldOwnTmp, deadBuild].map((f) => existsSync(f))).toEqual([false, true, false, false]);
    expect(existsSync(join(dir, 'src', 'a.md'))).toBe(true);
    expect(existsSync(w.archiveDirOf('t_cccccccc04'))).toBe(false);
  });
});

/** The error a call throws (a call that does not throw fails the test). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

const asRoot = process.getuid?.() === 0;

describe('a workspace that cannot be written', () => {
  it('is fine while its folders are missing and can be created', async () => {
    const { w } = ws();
    expect(await w.writableProblem()).toBeUndefined();
    w.writeFile('t_dddddddd01', 'a.md', '# a');
    w.archive('t_dddddddd01', {});
    expect(await w.writableProblem()).toBeUndefined();
  });

  // fails for root too: this case runs wherever the tests do
  it('names the file in the way of a folder, and the fix, instead of the raw ENOTDIR', async () => {
    const { w, root } = ws();
    mkdirSync(join(root, 'workspace'));
    const blocker = join(root, 'workspace', 'implementation');
    writeFileSync(blocker, 'not a folder');
    const e = thrown(() => w.writeFile('t_dddddddd02', 'src/a.js', 'x'));
    expect((e as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    const said = `a file is in the way: ${blocker} is a file where the workspace folder needs a folder (ENOTDIR): move or remove that file`;
    expect(w.writeProblem(e)).toBe(said);
    expect(await w.writableProblem()).toBe(said);

    // a file where the archive goes
    const { w: w2, root: root2 } = ws();
    writeFileSync(join(root2, 'archive'), 'x');
    expect(await w2.writableProblem()).toBe(`a file is in the way: ${join(root2, 'archive')} is a file where the archive folder needs a folder (ENOTDIR): move or remove that file`);
    const e2 = thrown(() => w2.archive('t_dddddddd03', {}));
    expect(w2.writeProblem(e2)).toMatch(/^a file is in the way: .*archive is a file where the archive folder needs a folder \((EEXIST|ENOTDIR)\)/);
  });

  it('leaves other errors to their own message', () => {
    const { w } = ws();
    expect(w.writeProblem(new Error('boom'))).toBeUndefined();
    expect(w.writeProblem(thrown(() => w.writeFile('t_dddddddd04', '../x', 'x')))).toBeUndefined();
  });

  it.skipIf(asRoot)('names the folder this user cannot write, and the fix, instead of the raw EACCES', async () => {
    const { w, root } = ws();
    const impl = join(root, 'workspace', 'implementation');
    mkdirSync(impl, { recursive: true });
    chmodSync(impl, 0o555);
    try {
      const e = thrown(() => w.writeFile('t_dddddddd05', 'a.md', 'x'));
      const user = userInfo().username;
      const said = `the workspace folder ${impl} is not writable by this user (${user}) (EACCES): fix its owner/permissions (e.g. chown -R ${user} ${impl}, or chmod u+rwx ${impl})`;
      expect(w.writeProblem(e)).toBe(said);
      expect(await w.writableProblem()).toBe(said);
      chmodSync(impl, 0o755);
      const archive = join(root, 'archive');
      mkdirSync(archive);
      chmodSync(archive, 0o555);
      expect(await w.writableProblem()).toMatch(/^the archive folder .*archive is not writable by this user .* \(EACCES\): fix its owner\/permissions/);
      expect(w.writeProblem(thrown(() => w.archive('t_dddddddd05', {})))).toMatch(/^the archive folder .*archive is not writable/);
      chmodSync(archive, 0o755);
    } finally {
      chmodSync(impl, 0o755);
    }
  });
});
