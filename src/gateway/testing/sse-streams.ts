/**
 * Streams as providers send them, for the SSE parsing tests: an Anthropic Messages stream (usage
 * in message_start and message_delta, a ping, non-ASCII text) and an OpenAI chat completion
 * stream with its usage chunk and [DONE]. Both end every line with LF; tests make CRLF of them.
 */
export const anthropicStream = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":15,"output_tokens":1,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}}}',
  '',
  'event: ping',
  'data: {"type": "ping"}',
  '',
  'event: content_block_start',
  'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo — ✓ wörld"}}',
  '',
  'event: content_block_stop',
  'data: {"type":"content_block_stop","index":0}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":21}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\n');

export const openaiStream = [
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"héllo ✓"}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":8}}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');
