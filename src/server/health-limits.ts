/** How long one check of /health may take: the whole answer stays within Docker's and Kubernetes' probe timeouts (3 s). */
export const HEALTH_CHECK_MS = 2000;

/**
 * How long the SQLite write probe waits for the write lock before it calls the database busy. The
 * daemon's own writers hold it for milliseconds (a group commit of the sidecar's write thread, a
 * transaction of the store's connection, a prune batch bounded to 8 MB, a checkpoint of 10–20 ms):
 * far below this, so a busy daemon is not reported as a locked one. Within HEALTH_CHECK_MS.
 */
export const WRITE_PROBE_MS = 1000;
