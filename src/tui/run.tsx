import { render } from 'ink';
import { TuiApp } from './app.js';
import { TuiClient } from './client.js';
import { TuiState } from './state.js';

/**
 * Draws the TUI against the daemon at `baseUrl` until the user quits. React is imported
 * statically here (through JSX), not by `cli/tui.ts`: in the bundle, `await import('react')`
 * yields a chunk with only a default export, so a destructured `createElement` was undefined.
 */
export async function runTui(baseUrl: string, token: string, rows: number): Promise<void> {
  const state = new TuiState();
  const client = new TuiClient(baseUrl, token, state, () => undefined);
  client.start();
  const app = render(<TuiApp state={state} client={client} url={baseUrl} rows={rows} />, { exitOnCtrlC: false });
  await app.waitUntilExit();
  client.stop();
}
