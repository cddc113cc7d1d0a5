/**
 * REST calls to the daemon. Same origin, so the HttpOnly `cco_token_<port>` cookie rides along; a
 * part that is not running (404/503) yields `undefined` instead of an exception, so one
 * missing part never blanks the page.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

async function readError(r: Response): Promise<ApiError> {
  let msg = `${r.status} ${r.statusText}`;
  let field: string | undefined;
  try {
    const b = (await r.json()) as { error?: { message?: string; field?: string } | string; message?: string };
    if (typeof b.error === 'string') msg = b.error;
    else if (b.error?.message) msg = b.error.message;
    else if (b.message) msg = b.message;
    field = typeof b.error === 'object' ? b.error?.field : undefined;
  } catch {
    // not JSON
  }
  return new ApiError(r.status, msg, field);
}

let routes: Set<string> | undefined;

/** The daemon routes that exist (from `/api/dashboard/session`), so the page never asks for a missing one. */
export function setRoutes(list: readonly string[] | undefined): void {
  routes = list ? new Set(list) : undefined;
}

/** True when the daemon has this route (`"GET /api/tasks"`). */
export function hasRoute(route: string): boolean {
  return routes?.has(route) ?? false;
}

/** GET a route the daemon may lack (a part not built or switched off): undefined then, without asking. */
export async function getIf<T = unknown>(path: string): Promise<T | undefined> {
  const route = `GET ${path.split('?')[0] ?? path}`;
  if (!hasRoute(route)) return undefined;
  return getJson<T>(path);
}

/** GET a JSON resource; undefined when the part is absent or the daemon unreachable. */
export async function getJson<T = unknown>(path: string, timeoutMs = 8000): Promise<T | undefined> {
  try {
    const r = await fetch(path, { credentials: 'same-origin', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!r.ok) return undefined;
    return (await r.json()) as T;
  } catch {
    return undefined;
  }
}

/** POST JSON; throws ApiError with the server's message (and field) on failure. */
export async function postJson<T = unknown>(path: string, body: unknown): Promise<T> {
  let r: Response;
  try {
    r = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body ?? {}),
      signal: AbortSignal.timeout(15000),
    });
  } catch (e) {
    throw new ApiError(0, `The daemon is unreachable (${(e as Error).message})`);
  }
  if (!r.ok) throw await readError(r);
  const text = await r.text();
  return (text ? JSON.parse(text) : {}) as T;
}
