import { describe, expect, it } from 'vitest';
import { PIPELINE_ENV_NAMES, pipelineSection, pipelineSettings } from './sections/pipeline.js';

describe('pipelineSettings (the seed\'s LLM_* variables)', () => {
  const toml = pipelineSection.parse({ model: 'claude-sonnet-4-5', max_tokens: 4000, temperature: 0.3 });

  it('maps LLM_MAX_TOKENS, LLM_TEMPERATURE and LLM_MODEL onto [pipeline], the environment winning as for [improve]', () => {
    expect(PIPELINE_ENV_NAMES).toEqual(['LLM_MAX_TOKENS', 'LLM_TEMPERATURE', 'LLM_MODEL']);
    const s = pipelineSettings(toml, { LLM_MAX_TOKENS: '2000', LLM_TEMPERATURE: '0.05', LLM_MODEL: 'claude-haiku-4-5' });
    expect([s.max_tokens, s.temperature, s.model]).toEqual([2000, 0.05, 'claude-haiku-4-5']);
    // every stage, over a catalog agent's tier, unless stage_models pins it
    expect(s.stage_models).toEqual({ enhancement: 'claude-haiku-4-5', analysis: 'claude-haiku-4-5', implementation: 'claude-haiku-4-5', validation: 'claude-haiku-4-5', integration: 'claude-haiku-4-5' });
    const pinned = pipelineSettings(pipelineSection.parse({ stage_models: { implementation: 'claude-opus-4-1' } }), { LLM_MODEL: 'anthropic.claude-v3' });
    expect(pinned.stage_models).toMatchObject({ implementation: 'claude-opus-4-1', analysis: 'anthropic.claude-v3' });
  });

  it('leaves the section alone when the variables are unset or empty', () => {
    expect(pipelineSettings(toml, {})).toEqual(toml);
    expect(pipelineSettings(toml, { LLM_MAX_TOKENS: '', LLM_MODEL: '  ' })).toEqual(toml);
  });

  it('refuses a malformed value naming the variable and the fix', () => {
    expect(() => pipelineSettings(toml, { LLM_MAX_TOKENS: 'lots' })).toThrow('LLM_MAX_TOKENS=lots is not a number; change or unset LLM_MAX_TOKENS');
    expect(() => pipelineSettings(toml, { LLM_MAX_TOKENS: '100' })).toThrow(/^LLM_MAX_TOKENS=100: .*256.*; change or unset LLM_MAX_TOKENS$/);
    expect(() => pipelineSettings(toml, { LLM_MAX_TOKENS: '2000.5' })).toThrow(/^LLM_MAX_TOKENS=2000.5: /);
    expect(() => pipelineSettings(toml, { LLM_TEMPERATURE: '1.5' })).toThrow(/^LLM_TEMPERATURE=1.5: /);
    expect(() => pipelineSettings(toml, { LLM_MODEL: 'claude haiku' })).toThrow('LLM_MODEL="claude haiku" is not a model id');
  });

  it('fails a rejected validation by default (PRODUCT.md: "a failing validator is reported as a failure")', () => {
    expect(pipelineSection.parse({}).fail_on_validation_reject).toBe(true);
  });
});
