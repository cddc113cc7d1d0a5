import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { AlignedData, Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Formats axis and legend values. */
  fmt?: (v: number) => string;
  /** Draw on the right-hand scale. */
  right?: boolean;
}

interface ChartOptions {
  /** Fixed y range (e.g. 0..100 for a percentage); otherwise from 0 to the data's max. */
  yRange?: [number, number];
  /** Sparse series (one value in a few buckets) show their points and join across gaps. */
  sparse?: boolean;
  /** Counts: ticks only at whole numbers (an empty chart's 0.5 read "1" once rounded). */
  integer?: boolean;
}

/** Whole-number tick steps: 1, 2, 5, 10, 20, 50 … */
const INTEGER_INCRS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));

/** From 0 to a little above the data's max; 0..1 while everything is 0 (uPlot's own guess was 0..100). */
const fromZero = (_u: uPlot, min: number | null, max: number | null): [number, number] => [Math.min(0, min ?? 0), max !== null && max > 0 ? max * 1.1 : 1];

/** An axis as wide as its longest tick label (about 7 px a character at 12 px, plus tick and gap), so none is clipped. */
const labelRoom = (_u: uPlot, values: string[] | null): number => Math.max(40, ...(values ?? []).map((v) => v.length * 7 + 22));

interface Props extends ChartOptions {
  title: string;
  /** x in seconds since the epoch, then one array per series. */
  data: AlignedData;
  series: SeriesSpec[];
  height?: number;
  testId?: string;
}

/** A uPlot time chart that resizes with its box and updates in place when data changes. */
export function Chart({ title, data, series, height = 180, testId, yRange, sparse, integer }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: yRange ? { auto: false, range: yRange } : { auto: true, range: fromZero }, r: { auto: true, range: fromZero } },
      axes: [
        { stroke: '#8b98a9', grid: { stroke: '#222b36' }, ticks: { stroke: '#222b36' } },
        {
          stroke: '#8b98a9',
          grid: { stroke: '#222b36' },
          ticks: { stroke: '#222b36' },
          size: labelRoom,
          ...(integer ? { incrs: INTEGER_INCRS } : {}),
          values: (_u, vals) => vals.map((v) => (series[0]?.fmt ? series[0].fmt(v) : String(v))),
        },
        ...(series.some((s) => s.right) ? [{ scale: 'r', side: 1 as const, stroke: '#8b98a9', grid: { show: false }, size: labelRoom, values: (_u: uPlot, vals: number[]) => vals.map((v) => (series.find((s) => s.right)?.fmt?.(v) ?? String(v))) }] : []),
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: `${s.color}22`,
          points: sparse ? { show: true, size: 5 } : { show: false },
          spanGaps: !!sparse,
          ...(s.right ? { scale: 'r' } : {}),
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : s.fmt ? s.fmt(v) : String(Math.round(v * 100) / 100)),
        })),
      ],
    };
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series set changes; data updates go through setData below.
  }, [key, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <div class="chart card" data-testid={testId}>
      <h3>{title}</h3>
      <div ref={box} class="chart-box" />
    </div>
  );
}
