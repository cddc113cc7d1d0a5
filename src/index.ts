#!/usr/bin/env node
/**
 * `node dist/index.js [--port N] [--host H] ...`: the daemon in the foreground, exactly `cco run`.
 * The guides (and process managers set up from them: pm2's `script`, a Dockerfile's CMD) start the
 * server by this path; `cco` (dist/cco/main.js) remains the one binary for everything else.
 */
const { main } = await import('./cli/run.js');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
