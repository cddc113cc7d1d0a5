import { LiveConnection } from './live';
import { state } from './state';

/** The page's single state and connection. */
export { state };
export const live = new LiveConnection(state);
