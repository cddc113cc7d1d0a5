import { Command } from 'commander';
import { defaultResponder, startFakeProvider } from '../fake-provider/server.js';
import { demoPipelineReply } from '../pipeline/demo-responder.js';
import { parsePort } from './common.js';

/**
 * `cco fake-provider [--port N]`: the built-in DEMO provider (canned replies, not a model)
 * speaking the Anthropic and OpenAI protocols, for trying CCO without a key:
 * `CCO_ANTHROPIC_BASE_URL=<its url> cco run`.
 */
export async function main(args: string[]): Promise<number> {
  const cmd = new Command('cco fake-provider').option('--port <port>', 'port (0 lets the OS choose)', '0').option('--host <host>', 'address', '127.0.0.1').exitOverride();
  cmd.parse(args, { from: 'user' });
  const o = cmd.opts<{ port: string; host: string }>();
  // Pipeline stages get scripted structured replies; anything else an echo.
  const fake = await startFakeProvider({ port: parsePort(o.port), host: o.host, recordLimit: 100, responder: (r) => demoPipelineReply(r) ?? defaultResponder(r) });
  process.stdout.write(`Listening on ${fake.url}\n   CCO demo provider: canned replies, not a real model.\n   Use it: CCO_ANTHROPIC_BASE_URL=${fake.url} CCO_OPENAI_BASE_URL=${fake.url}/v1 cco run\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await fake.close();
  return 0;
}
