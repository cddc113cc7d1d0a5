/** Tables owned by the improve module (row types for Kysely). Add interfaces and list them below. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ImproveTables {}
