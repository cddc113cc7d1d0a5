import { useMemo, useState } from 'preact/hooks';
import { Chart } from '../components/chart';
import { Absent, Section } from '../components/common';
import { VirtualList } from '../components/virtual-list';
import { getIf } from '../lib/api';
import { fmtMs, fmtNum, fmtTime, fmtUsd } from '../lib/format';
import { useLive, useNow, usePoll } from '../lib/hooks';
import { state } from '../lib/instance';
import type { GwRequest } from '../lib/model';
import { bucketize, historySeries, modelRows } from './gateway-data';

/** Charts of the gateway's traffic, a per-model table and the recent requests. */
export function Gateway() {
  useLive();
  // Charts move once a second, not on every message.
  const now = useNow(1000);
  const project = usePoll(() => getIf<unknown>('/api/project/stats?hours=24'), 10_000);
  const machine = usePoll(() => getIf<unknown>(`/api/machine/stats?hours=24&utc_offset_minutes=${-new Date().getTimezoneOffset()}`), 30_000);
  const history = useMemo(() => historySeries(machine.data), [machine.data]);
  const series = useMemo(() => bucketize(state.requests, now), [now]);
  const models = modelRows(project.data, state.requests);
  const [picked, setPicked] = useState<GwRequest | undefined>(undefined);
  const n = state.requests.length;
  return (
    <div class="view" data-testid="view-gateway">
      <Section title="Live (last 6 minutes, 5 s buckets)">
        <div class="charts">
          <Chart title="Requests / s" testId="chart-requests" data={series.requests} series={[{ label: 'req/s', color: '#5fb3f9', fmt: (v) => v.toFixed(2) }]} />
          <Chart title="Cost (USD per 5 s)" testId="chart-cost" data={series.cost} series={[{ label: 'cost', color: '#f0b45a', fmt: (v) => `$${v.toFixed(4)}` }]} />
          <Chart
            title="Tokens"
            testId="chart-tokens"
            integer
            data={series.tokens}
            series={[
              { label: 'input', color: '#8fd694', fmt: (v) => fmtNum(v) },
              { label: 'output', color: '#c792ea', fmt: (v) => fmtNum(v) },
            ]}
          />
          <Chart
            title="Latency"
            testId="chart-latency"
            sparse
            data={series.latency}
            series={[
              { label: 'p50', color: '#5fb3f9', fmt: (v) => fmtMs(v) },
              { label: 'p99', color: '#f07178', fmt: (v) => fmtMs(v) },
            ]}
          />
          <Chart title="Cache hit rate" testId="chart-cache" sparse yRange={[0, 100]} data={series.cacheRate} series={[{ label: 'hit %', color: '#8fd694', fmt: (v) => `${v.toFixed(0)}%` }]} />
        </div>
      </Section>
      <Section title={`Last 24 hours (analytics${history?.bucketMs ? `, ${Math.round(history.bucketMs / 60000)} min buckets` : ''})`}>
        {!history ? (
          <Absent what="No analytics history (GET /api/machine/stats) yet." />
        ) : (
          <div class="charts">
            <Chart
              title="Requests and cost"
              testId="history-requests"
              integer
              data={history.requests}
              series={[
                { label: 'requests', color: '#5fb3f9', fmt: (v) => fmtNum(v) },
                { label: 'cost', color: '#f0b45a', fmt: (v) => `$${v.toFixed(4)}`, right: true },
              ]}
            />
            <Chart title="Average latency" testId="history-latency" sparse data={history.latency} series={[{ label: 'avg', color: '#c792ea', fmt: (v) => fmtMs(v) }]} />
            <Chart title="Cache hit rate" testId="history-cache" sparse yRange={[0, 100]} data={history.cacheRate} series={[{ label: 'hit %', color: '#8fd694', fmt: (v) => `${v.toFixed(0)}%` }]} />
          </div>
        )}
      </Section>
      <Section title="Per model (24 h)">
        {models.rows.length === 0 ? (
          <Absent what="No requests through the gateway yet." />
        ) : (
          <table class="table" data-testid="model-table">
            <thead>
              <tr>
                <th>model</th>
                <th class="num">requests</th>
                <th class="num">tokens in</th>
                <th class="num">tokens out</th>
                <th class="num">cost</th>
                <th class="num">avg latency</th>
                <th class="num">cache hits</th>
                <th class="num">errors</th>
              </tr>
            </thead>
            <tbody>
              {models.rows.map((r) => (
                <tr key={r.model}>
                  <td class="mono">{r.model}</td>
                  <td class="num">{fmtNum(r.requests)}</td>
                  <td class="num">{fmtNum(r.inTok)}</td>
                  <td class="num">{fmtNum(r.outTok)}</td>
                  <td class="num">{fmtUsd(r.cost)}</td>
                  <td class="num">{fmtMs(r.avgLatency)}</td>
                  <td class="num">{fmtNum(r.cacheHits)}</td>
                  <td class="num">{fmtNum(r.errors)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted small">source: {models.source}</p>
      </Section>
      <Section title={`Recent requests (${n})`}>
        <div class="split">
          <div class="split-main">
            <div class="row-head req-row">
              <span>time</span>
              <span>model</span>
              <span>status</span>
              <span class="num">latency</span>
              <span class="num">tokens</span>
              <span class="num">cost</span>
              <span>cache</span>
            </div>
            <VirtualList
              count={n}
              rowHeight={26}
              testId="request-list"
              className="short"
              row={(i) => {
                const r = state.requests.at(n - 1 - i);
                if (!r) return null;
                return (
                  <div class={`req-row clickable ${picked === r ? 'picked' : ''}`} onClick={() => setPicked(r)}>
                    <span class="muted">{fmtTime(r.ts)}</span>
                    <span class="mono">{r.model}</span>
                    <span>{r.status ?? '—'}</span>
                    <span class="num">{fmtMs(r.latencyMs)}</span>
                    <span class="num">
                      {fmtNum(r.inTok)}/{fmtNum(r.outTok)}
                    </span>
                    <span class="num">{fmtUsd(r.cost)}</span>
                    <span>{r.cacheHit === undefined ? '—' : r.cacheHit ? 'hit' : 'miss'}</span>
                  </div>
                );
              }}
            />
          </div>
          <div class="split-side card">
            <h3>Request details</h3>
            {picked ? <pre class="json">{JSON.stringify(picked.raw, null, 2)}</pre> : <p class="muted">Click a request to see everything recorded about it.</p>}
          </div>
        </div>
      </Section>
    </div>
  );
}
