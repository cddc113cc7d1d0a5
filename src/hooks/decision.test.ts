import { describe, expect, it } from 'vitest';
import { classifyTool, decide, preToolUseOutput } from './decision.js';

describe('PreToolUse decisions', () => {
  it('classifies tools', () => {
    expect(classifyTool('Read')).toBe('read');
    expect(classifyTool('Bash')).toBe('cud');
    expect(classifyTool('mcp__cco__publish_event')).toBe('other');
  });

  it('allows reads automatically only when the flag is on', () => {
    expect(decide('Grep', { autoAllowRead: true, requireCudConfirmation: false })?.decision).toBe('allow');
    expect(decide('Grep', { autoAllowRead: false, requireCudConfirmation: false })).toBeUndefined();
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
