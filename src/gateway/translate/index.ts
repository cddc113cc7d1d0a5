import type { ClientFormat } from '../proxy/errors.js';
import { GatewayError } from '../proxy/errors.js';
import type { Endpoint } from '../proxy/inbound.js';
import type { FormatBridge } from './types.js';

/** The bridge between a client's format and a provider's; undefined when they are the same (pass-through). */
export function bridgeFor(client: ClientFormat, upstream: ClientFormat, _endpoint: Endpoint): FormatBridge | undefined {
  if (client === upstream) return undefined;
  throw new GatewayError(501, 'translation_unavailable', `Translation ${client} → ${upstream} is not available`);
}
