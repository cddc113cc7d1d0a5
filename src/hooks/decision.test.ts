import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyTool, decide, preToolUseOutput } from './decision.js';

const on = { autoAllowRead: true, requireCudConfirmation: false };

describe('PreToolUse decisions', () => {
  let root: string;
  let proj: string;
  let secret: string;
  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cco-decision-')));
    proj = join(root, 'proj');
    mkdirSync(join(proj, 'src'), { recursive: true });
    writeFileSync(join(proj, 'src', 'a.ts'), 'x');
    mkdirSync(join(root, 'ssh'));
    secret = join(root, 'ssh', 'id_rsa');
    writeFileSync(secret, 'KEY');
    symlinkSync(secret, join(proj, 'key-link'));
    symlinkSync(join(root, 'ssh'), join(proj, 'dir-link'));
    symlinkSync(join(root, 'nowhere'), join(proj, 'dangling'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const read = (file_path: unknown, cwd: string | undefined = proj) => decide('Read', on, { cwd, toolInput: { file_path } })?.decision;

  it('classifies tools', () => {
    expect(classifyTool('Read')).toBe('read');
    expect(classifyTool('Bash')).toBe('cud');
    expect(classifyTool('WebFetch')).toBe('network');
    expect(classifyTool('mcp__cco__publish_event')).toBe('other');
  });

  it('allows reads automatically only when the flag is on', () => {
    expect(decide('Grep', on, { cwd: proj, toolInput: { pattern: 'x' } })?.decision).toBe('allow');
    expect(decide('Grep', { autoAllowRead: false, requireCudConfirmation: false }, { cwd: proj, toolInput: { pattern: 'x' } })).toBeUndefined();
    expect(decide('TodoWrite', on)?.decision).toBe('allow');
  });

  it('allows file reads inside the session project only', () => {
    expect(read(join(proj, 'src', 'a.ts'))).toBe('allow');
    expect(read('src/a.ts')).toBe('allow');
    expect(read(join(proj, 'src', 'not-yet.ts'))).toBe('allow');
    // outside: no decision, Claude Code's own permission check applies
    expect(read(secret)).toBeUndefined();
    expect(read('/etc/passwd')).toBeUndefined();
    expect(read('~/.ssh/id_rsa')).toBeUndefined();
    expect(read(`${proj}/../ssh/id_rsa`)).toBeUndefined();
    expect(read(`${proj}/src/../src/a.ts`)).toBeUndefined();
    expect(read(`${proj}-other/x`)).toBeUndefined();
    // symlinks are followed to where they point
    expect(read(join(proj, 'key-link'))).toBeUndefined();
    expect(read(join(proj, 'dir-link', 'id_rsa'))).toBeUndefined();
    expect(read(join(proj, 'dangling'))).toBeUndefined();
    // no project to compare with, or one that is everything
    expect(decide('Read', on, { toolInput: { file_path: join(proj, 'src', 'a.ts') } })).toBeUndefined();
    expect(decide('Read', on)).toBeUndefined();
    expect(read('/etc/passwd', '/')).toBeUndefined();
    expect(read(join(homedir(), '.ssh', 'id_rsa'), homedir())).toBeUndefined();
    // a session above the home folder (/home, /Users): the home's secrets are not "the project's"
    expect(read(join(homedir(), '.ssh', 'id_rsa'), dirname(homedir()))).toBeUndefined();
    expect(read(join(homedir(), 'notes.txt'), dirname(homedir()))).toBeUndefined();
    // credentials kept inside a project are not read unasked either
    expect(read(join(proj, '.ssh', 'id_ed25519'))).toBeUndefined();
    expect(read(join(proj, 'deploy', '.aws', 'credentials'))).toBeUndefined();
    expect(read(42)).toBeUndefined();
  });

  it('checks the folders and globs of Glob, Grep and LS', () => {
    expect(decide('Glob', on, { cwd: proj, toolInput: { pattern: '**/*.ts' } })?.decision).toBe('allow');
    expect(decide('Glob', on, { cwd: proj, toolInput: { pattern: '*', path: join(root, 'ssh') } })).toBeUndefined();
    expect(decide('Glob', on, { cwd: proj, toolInput: { pattern: '/etc/*' } })).toBeUndefined();
    expect(decide('Glob', on, { cwd: proj, toolInput: { pattern: '../ssh/*' } })).toBeUndefined();
    expect(decide('Grep', on, { cwd: proj, toolInput: { pattern: 'KEY', path: 'src' } })?.decision).toBe('allow');
    expect(decide('Grep', on, { cwd: proj, toolInput: { pattern: 'KEY', path: join(proj, 'dir-link') } })).toBeUndefined();
    expect(decide('LS', on, { cwd: proj, toolInput: { path: proj } })?.decision).toBe('allow');
    expect(decide('LS', on, { cwd: proj, toolInput: { path: root } })).toBeUndefined();
    expect(decide('LS', on, { cwd: proj, toolInput: {} })).toBeUndefined();
  });

  it('never allows WebFetch or WebSearch on its own (they send data out)', () => {
    expect(decide('WebFetch', on, { cwd: proj, toolInput: { url: 'https://example.com', prompt: 'x' } })).toBeUndefined();
    expect(decide('WebSearch', on, { cwd: proj, toolInput: { query: 'x' } })).toBeUndefined();
  });

  it('asks for create/update/delete tools only when confirmation is required', () => {
    expect(decide('Write', { autoAllowRead: true, requireCudConfirmation: true })?.decision).toBe('ask');
    expect(decide('Write', { autoAllowRead: true, requireCudConfirmation: false })).toBeUndefined();
  });

  it('renders Claude Code hook output', () => {
    expect(preToolUseOutput(undefined)).toEqual({});
    expect(preToolUseOutput({ decision: 'ask', reason: 'r' })).toEqual({
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'r' },
    });
  });
});
