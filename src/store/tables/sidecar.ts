/** Tables owned by the sidecar module (row types for Kysely). Add interfaces and list them below. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SidecarTables {}
