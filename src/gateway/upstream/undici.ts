/**
 * undici behind a module of our own, so that client.ts can load it lazily with `import()`:
 * a dynamic import of this ESM file keeps undici's CommonJS named exports intact in the bundle.
 */
export { Agent, EnvHttpProxyAgent, request } from 'undici';
