import type { ClientFormat } from '../proxy/errors.js';
import type { Endpoint } from '../proxy/inbound.js';
import { anthropicToOpenaiRequest, openaiErrorToAnthropic, openaiToAnthropicResponse } from './anthropic-to-openai.js';
import { OpenaiToAnthropicStream } from './anthropic-to-openai-stream.js';
import { anthropicErrorToOpenai, anthropicToOpenaiResponse, openaiToAnthropicRequest, wantsJson } from './openai-to-anthropic.js';
import { AnthropicToOpenaiStream } from './openai-to-anthropic-stream.js';
import type { FormatBridge } from './types.js';

/** Anthropic client, OpenAI-format provider. */
const anthropicClientOpenaiUpstream: FormatBridge = {
  request: anthropicToOpenaiRequest,
  response: openaiToAnthropicResponse,
  error: openaiErrorToAnthropic,
  stream: (model, body) => new OpenaiToAnthropicStream(model, body),
};

/** OpenAI client, Anthropic provider. */
const openaiClientAnthropicUpstream: FormatBridge = {
  request: openaiToAnthropicRequest,
  response: anthropicToOpenaiResponse,
  error: anthropicErrorToOpenai,
  stream: (model, body) => new AnthropicToOpenaiStream(model, (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true, wantsJson(body)),
};

/** The bridge between a client's format and a provider's; undefined when they are the same (pass-through). */
export function bridgeFor(client: ClientFormat, upstream: ClientFormat, _endpoint: Endpoint): FormatBridge | undefined {
  if (client === upstream) return undefined;
  return client === 'anthropic' ? anthropicClientOpenaiUpstream : openaiClientAnthropicUpstream;
}
