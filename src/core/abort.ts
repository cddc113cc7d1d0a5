/**
 * What a request path needs of an AbortSignal (the gateway's proxying, the sidecar's waits). A
 * real AbortSignal fits (callers outside the hot paths pass one), and so does `RequestAbort`.
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * One request's cancellation (the client left, an operator killed it, the server is closing):
 * an AbortController and its signal in one small object.
 *
 * Why not AbortController: on Node 20 its signal costs ~2.5 µs to create and ~2.2 µs more for
 * the first listener (an EventTarget each), measured in a tight loop; every proxied request
 * needs one, and the listeners come and go several times per request (queue, upstream call).
 * Through the gateway, the switch cut ~29 µs of CPU per request (docs/benchmarks/gateway.md).
 * Listeners run once, in the order added, when `abort` is first called; one added after that
 * never runs, as with an AbortSignal.
 */
export class RequestAbort implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.listeners;
    this.listeners = undefined;
    if (l) for (const f of l) f();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const l = this.listeners;
    if (!l) return;
    const i = l.indexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }
}
