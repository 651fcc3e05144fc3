import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type {
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  MarkAreaComponentOption,
  MarkLineComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
} from 'echarts/components';

/** The option type narrowed to what echarts.setup.ts registers. */
export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | DataZoomComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | MarkAreaComponentOption
  | MarkLineComponentOption
>;

export interface LineData {
  name: string;
  points: Array<[number, number]>;
}

export interface AnomalyMark {
  fromMs: number;
  toMs: number;
  label: string;
}

export interface ForecastBand {
  points: Array<{ ts: number; value: number; lower: number; upper: number }>;
  limitUpper: number | null;
  limitLower: number | null;
}

export interface TimeChartInput {
  series: LineData[];
  range: { fromMs: number; toMs: number };
  unit?: string;
  anomalies?: AnomalyMark[];
  forecast?: ForecastBand;
  /** Draw without animation: live updates and large series. */
  animation?: boolean;
}

const AXIS_LABEL = { color: '#9aa4b2' };
const SPLIT_LINE = { lineStyle: { color: 'rgba(127,127,127,0.18)' } };

/** One time chart: lines, anomaly windows as red areas, a forecast band with its limit line. */
export function timeChartOption(input: TimeChartInput): ChartOption {
  const series: Array<LineSeriesOption> = input.series.map((s, i) => ({
    type: 'line',
    name: s.name,
    data: s.points,
    showSymbol: false,
    sampling: s.points.length > 5000 ? 'lttb' : undefined,
    large: s.points.length > 5000,
    lineStyle: { width: 1.5 },
    emphasis: { disabled: true },
    ...(i === 0 && input.anomalies?.length
      ? {
          markArea: {
            silent: false,
            itemStyle: { color: 'rgba(229,57,53,0.22)' },
            label: { show: false },
            data: input.anomalies.map((a) => [{ xAxis: a.fromMs, name: a.label }, { xAxis: a.toMs }]),
          },
        }
      : {}),
  }));
  const forecast = input.forecast;
  let forecastMax = -Infinity;
  if (forecast && forecast.points.length) {
    const lower = forecast.points.map((p) => [p.ts, p.lower] as [number, number]);
    const width = forecast.points.map((p) => [p.ts, p.upper - p.lower] as [number, number]);
    forecastMax = Math.max(...forecast.points.map((p) => p.upper));
    series.push(
      {
        type: 'line',
        name: 'forecast lower',
        data: lower,
        stack: 'band',
        showSymbol: false,
        lineStyle: { opacity: 0 },
        tooltip: { show: false },
      },
      {
        type: 'line',
        name: 'forecast band',
        data: width,
        stack: 'band',
        showSymbol: false,
        lineStyle: { opacity: 0 },
        areaStyle: { color: 'rgba(66,165,245,0.25)' },
        tooltip: { show: false },
      },
      {
        type: 'line',
        name: 'forecast',
        data: forecast.points.map((p) => [p.ts, p.value]),
        showSymbol: false,
        lineStyle: { type: 'dashed', width: 1.5 },
        markLine:
          forecast.limitUpper !== null || forecast.limitLower !== null
            ? {
                symbol: 'none',
                lineStyle: { color: '#e53935', type: 'solid' },
                label: { formatter: 'limit {c}', color: '#e57373' },
                data: [forecast.limitUpper, forecast.limitLower]
                  .filter((v): v is number => v !== null)
                  .map((v) => ({ yAxis: v })),
              }
            : undefined,
      },
    );
  }
  const toMs = forecast?.points.length
    ? Math.max(input.range.toMs, forecast.points.at(-1)!.ts)
    : input.range.toMs;
  return {
    animation: input.animation ?? false,
    grid: { left: 56, right: 16, top: 24, bottom: 28 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'cross', label: { show: false } } },
    legend: input.series.length > 1 ? { top: 0, textStyle: AXIS_LABEL, type: 'scroll' } : undefined,
    xAxis: {
      type: 'time',
      min: input.range.fromMs,
      max: toMs,
      axisLabel: AXIS_LABEL,
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      scale: true,
      name: input.unit,
      nameTextStyle: AXIS_LABEL,
      axisLabel: AXIS_LABEL,
      splitLine: SPLIT_LINE,
      max:
        Number.isFinite(forecastMax) && forecast?.limitUpper != null
          ? (v: { max: number }) => Math.max(v.max, forecast.limitUpper!)
          : undefined,
    },
    dataZoom: [
      {
        type: 'inside',
        xAxisIndex: 0,
        filterMode: 'none',
        zoomOnMouseWheel: 'shift',
        moveOnMouseMove: false,
      },
    ],
    series,
  };
}

/** Counts per bucket as bars (the logs histogram); a drag-zoom on it narrows the shared time range. */
export function histogramOption(
  buckets: Array<[number, number]>,
  stepMs: number,
  range: { fromMs: number; toMs: number },
): ChartOption {
  return {
    animation: false,
    grid: { left: 40, right: 12, top: 8, bottom: 24 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', min: range.fromMs, max: range.toMs, axisLabel: AXIS_LABEL },
    yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE },
    dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none', zoomOnMouseWheel: true }],
    series: [
      {
        type: 'bar',
        name: 'log lines',
        data: buckets.map(([t, c]) => [t + stepMs / 2, c]),
        barMaxWidth: 24,
        itemStyle: { color: '#64b5f6' },
      },
    ],
  };
}

/** Counts log lines per bucket of `stepMs` over the range. */
export function bucketCounts(
  times: number[],
  range: { fromMs: number; toMs: number },
  stepMs: number,
): Array<[number, number]> {
  const start = Math.floor(range.fromMs / stepMs) * stepMs;
  const n = Math.max(1, Math.ceil((range.toMs - start) / stepMs));
  const counts = new Array<number>(n).fill(0);
  for (const t of times) {
    const i = Math.floor((t - start) / stepMs);
    if (i >= 0 && i < n) counts[i]!++;
  }
  return counts.map((c, i) => [start + i * stepMs, c]);
}
