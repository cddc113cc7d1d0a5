import type { Migration, MigrationProvider } from 'kysely';
import { authMigrations } from './auth.js';
import { coreMigrations } from './core.js';
import { gatewayMigrations } from './gateway.js';
import { improveMigrations } from './improve.js';
import { pipelineMigrations } from './pipeline.js';
import { sidecarMigrations } from './sidecar.js';
import type { Dialect, MigrationSet } from './types.js';

const SETS: MigrationSet[] = [coreMigrations, gatewayMigrations, sidecarMigrations, pipelineMigrations, improveMigrations, authMigrations];

/** All modules' migrations. Kysely runs them in name order; names are prefixed by module. */
export class ModuleMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const all: Record<string, Migration> = {};
    for (const set of SETS) {
      for (const [name, m] of Object.entries(set(this.dialect))) {
        if (all[name]) throw new Error(`duplicate migration name ${name}`);
        all[name] = m;
      }
    }
    return all;
  }
}
