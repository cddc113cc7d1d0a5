import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

/**
 * The daemon inherits ANTHROPIC_API_KEY from whichever shell started it. That key stands in for
 * clients that bring none; a client's own login or key goes up as it would without CCO, unless the
 * routing file names the key (the team's choice).
 */
let h: Harness;
const ENV_KEY = 'sk-ant-daemon-environment-0000000000';
beforeAll(async () => {
  h = await startHarness({
    cacheTtlSeconds: 0,
    env: { ANTHROPIC_API_KEY: ENV_KEY, TEAM_KEY: 'sk-ant-team-configured-00000000000' },
    routing: { routes: [{ pattern: '^claude-team', api_key_env: 'TEAM_KEY', retries: 0 }, { pattern: '^claude-', provider: 'anthropic', retries: 0 }] },
  });
});
afterAll(async () => {
  await h?.close();
});

const send = (model: string, headers: Record<string, string>) =>
  fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: `${model} ${JSON.stringify(headers)}` }] }) });
const lastHeaders = () => h.fake.requests.at(-1)?.headers ?? {};

describe("the daemon's inherited provider key", () => {
  it("gives way to the client's own key or login", async () => {
    expect((await send('claude-sonnet-4-5', { 'x-api-key': 'sk-ant-the-users-other-project-000' })).status).toBe(200);
    expect(lastHeaders()['x-api-key']).toBe('sk-ant-the-users-other-project-000');
    // Claude Code logged in with OAuth: its Bearer token goes up as it is
    expect((await send('claude-sonnet-4-5', { authorization: 'Bearer sk-ant-oat01-the-users-oauth-token' })).status).toBe(200);
    expect(lastHeaders().authorization).toBe('Bearer sk-ant-oat01-the-users-oauth-token');
    expect(lastHeaders()['x-api-key']).toBeUndefined();
  });

  it('stands in for a client without a key, and for a key of another provider', async () => {
    expect((await send('claude-sonnet-4-5', {})).status).toBe(200);
    expect(lastHeaders()['x-api-key']).toBe(ENV_KEY);
    expect((await send('claude-sonnet-4-5', { authorization: 'Bearer sk-proj-an-openai-key-000000000000' })).status).toBe(200);
    expect(lastHeaders()['x-api-key']).toBe(ENV_KEY);
    // a stand-in an SDK needs to run at all
    expect((await send('claude-sonnet-4-5', { 'x-api-key': 'dummy' })).status).toBe(200);
    expect(lastHeaders()['x-api-key']).toBe(ENV_KEY);
  });

  it('a key the routing file names always goes', async () => {
    expect((await send('claude-team-model', { 'x-api-key': 'sk-ant-the-users-own-key-0000000' })).status).toBe(200);
    expect(lastHeaders()['x-api-key']).toBe('sk-ant-team-configured-00000000000');
  });
});
