/** One problem found in the catalog: which file, which field, what is wrong. */
export interface AgentIssue {
  /** File name relative to the catalog folder (`python-specialist.md`), or `(catalog)`. */
  file: string;
  /** Dotted field path (`context.upstream[1]`), or `(front matter)` / `(body)`. */
  field: string;
  message: string;
}

/**
 * The catalog could not be loaded. Carries every issue found (not only the first), so that one
 * run of `cco agents list` or the daemon's start shows all that needs fixing.
 */
export class AgentCatalogError extends Error {
  readonly code = 'agent_catalog_invalid';
  constructor(
    readonly dir: string,
    readonly issues: readonly AgentIssue[],
    readonly files: number,
  ) {
    const badFiles = new Set(issues.map((i) => i.file)).size;
    const head = `Agent catalog ${dir} is invalid: ${issues.length} ${issues.length === 1 ? 'error' : 'errors'} in ${badFiles} of ${files} ${files === 1 ? 'file' : 'files'}`;
    const lines = issues.slice(0, 20).map((i) => `  ${i.file}: ${i.field}: ${i.message}`);
    if (issues.length > 20) lines.push(`  ... and ${issues.length - 20} more`);
    super([head, ...lines].join('\n'));
    this.name = 'AgentCatalogError';
  }
}
