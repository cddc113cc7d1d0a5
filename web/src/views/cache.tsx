import { useState } from 'preact/hooks';
import { Absent, Section, Stat } from '../components/common';
import { getIf, postJson } from '../lib/api';
import { arr, num, str } from '../lib/fields';
import { fmtBytes, fmtNum, fmtPct } from '../lib/format';
import { usePoll } from '../lib/hooks';

/** The gateway cache: stats, the most used entries, and clearing it. */
export function Cache() {
  const stats = usePoll(() => getIf<unknown>('/api/cache/stats'), 3000);
  const top = usePoll(() => getIf<unknown>('/api/cache/top-items?limit=25'), 5000);
  const [msg, setMsg] = useState('');
  const [busy, setBusy] = useState(false);
  const items = arr(top.data, 'items', 'top_items', 'topItems', 'entries') ?? (Array.isArray(top.data) ? top.data : []);
  const clear = async (): Promise<void> => {
    if (!confirm('Clear every cached response?')) return;
    setBusy(true);
    try {
      const r = await postJson<unknown>('/api/cache/clear', {});
      setMsg(`Cleared ${fmtNum(num(r, 'cleared'))} entries, freed ${num(r, 'freedBytes', 'freed_bytes') !== undefined ? fmtBytes(num(r, 'freedBytes', 'freed_bytes')) : (str(r, 'freedMemory') ?? '?')}.`);
      stats.reload();
      top.reload();
    } catch (e) {
      setMsg(`Clearing failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const d = stats.data;
  return (
    <div class="view" data-testid="view-cache">
      {!d && !stats.loading ? (
        <Absent what="The gateway cache is not available (GET /api/cache/stats did not answer)." />
      ) : (
        <div class="stats">
          <Stat label="Hit rate" value={fmtPct(num(d, 'hitRate', 'hit_rate'))} testId="cache-hitrate" />
          <Stat label="Hits" value={fmtNum(num(d, 'hits'))} testId="cache-hits" />
          <Stat label="Misses" value={fmtNum(num(d, 'misses'))} testId="cache-misses" />
          <Stat label="Entries" value={fmtNum(num(d, 'entries', 'count'))} testId="cache-entries" />
          <Stat label="Size" value={fmtBytes(num(d, 'size', 'bytes'))} sub={`of ${fmtBytes(num(d, 'maxSize', 'max_size'))}`} testId="cache-size" />
        </div>
      )}
      <Section
        title="Top items"
        actions={
          <button class="danger" disabled={busy} onClick={() => void clear()} data-testid="cache-clear">
            Clear cache
          </button>
        }
      >
        {msg && <p class="notice" data-testid="cache-message">{msg}</p>}
        {items.length === 0 ? (
          <Absent what="No cached responses yet." />
        ) : (
          <table class="table" data-testid="cache-top">
            <thead>
              <tr>
                <th>key</th>
                <th>model</th>
                <th class="num">hits</th>
                <th class="num">size</th>
              </tr>
            </thead>
            <tbody>
              {items.map((it, i) => (
                <tr key={i}>
                  <td class="mono small">{(str(it, 'key', 'hash', 'id') ?? '').slice(0, 24)}</td>
                  <td class="mono">{str(it, 'model') ?? '—'}</td>
                  <td class="num">{fmtNum(num(it, 'hits', 'hit_count', 'hitCount'))}</td>
                  <td class="num">{fmtBytes(num(it, 'size', 'bytes'))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}
