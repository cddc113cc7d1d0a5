import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { live, state } from './instance';

/** Re-renders the component whenever the live state changed (at most once per frame). */
export function useLive(): number {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => state.subscribe(() => bump()), []);
  return state.version;
}

/**
 * REST data that a view shows: loaded on mount, every `intervalMs`, and again after the
 * connection comes back. `reload()` forces a load (after a button press).
 */
export function usePoll<T>(load: () => Promise<T | undefined>, intervalMs: number): { data: T | undefined; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    const run = async (): Promise<void> => {
      const v = await loadRef.current();
      if (!alive) return;
      setData(v);
      setLoading(false);
    };
    if (state.conn === 'open') void run();
    const t = setInterval(() => {
      if (state.conn === 'open') void run();
    }, intervalMs);
    const off = live.onReconnect(() => void run());
    return () => {
      alive = false;
      clearInterval(t);
      off();
    };
  }, [intervalMs, tick]);
  return { data, loading, reload: () => setTick((n) => n + 1) };
}

/** A clock that ticks every `ms` (for "3s ago" labels and countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
