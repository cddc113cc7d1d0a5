import type { AuthTables } from './auth.js';
import type { CoreTables } from './core.js';
import type { GatewayTables } from './gateway.js';
import type { ImproveTables } from './improve.js';
import type { PipelineTables } from './pipeline.js';
import type { SidecarTables } from './sidecar.js';

/** Every table of the product, one interface per owning module. */
export interface Database extends CoreTables, GatewayTables, SidecarTables, PipelineTables, ImproveTables, AuthTables {}
