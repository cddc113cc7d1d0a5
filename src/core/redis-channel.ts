/**
 * A pub/sub channel name for one deployment. Redis pub/sub ignores the database number, while
 * keys (BullMQ, the cache, rate limits) are kept apart by it: two deployments on one Redis under
 * `/7` and `/8` (staging and production) heard each other's live messages and wake-ups. The
 * database goes into the name (database 0 keeps the plain name).
 */
export function redisChannel(redisUrl: string, name: string): string {
  let db = 0;
  try {
    db = Number(new URL(redisUrl).pathname.slice(1) || 0) || 0;
  } catch {
    // not a URL (a socket path): database 0
  }
  return db ? `${name}:db${db}` : name;
}
