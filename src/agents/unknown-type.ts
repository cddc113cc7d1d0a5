import { AppError } from '../core/errors.js';
import { suggestAgentName } from './check.js';
import type { AgentCatalog } from './types.js';

/**
 * The error for an agent type the catalog does not have, naming the field and the closest known
 * type when it looks like a typo (`python-specialst` → "python-specialist"), as `cco agents show`
 * does.
 */
export function unknownAgentType(catalog: AgentCatalog, name: string, field: string, status = 400): AppError {
  const hint = suggestAgentName(name, catalog.list().map((a) => a.name));
  return new AppError(status, 'unknown_agent_type', `${field}: no agent type ${name} in the catalog${hint} (cco agents list)`, { field });
}
