import type { Anomaly, Forecast, Series } from '../../core/api/api.types';
import { downsamplePairs } from '../../shared/chart/lttb.util';
import { timeChartOption, type ChartOption } from '../../shared/chart/chart-options.util';

/** Series points plus live pushes newer than the last fetched bucket, as [ms, value] pairs. */
export function mergeLive(
  series: Series,
  live: Array<[number, number]>,
): Array<{ ts: string; value: number }> {
  const last = series.points.length ? Date.parse(series.points.at(-1)!.ts) : -Infinity;
  const extra = live.filter(([t]) => t > last).map(([t, v]) => ({ ts: new Date(t).toISOString(), value: v }));
  return extra.length ? [...series.points, ...extra] : series.points;
}

/** Most points a chart draws: longer series are downsampled by LTTB (peaks kept). */
export const DRAW_LIMIT = 2000;

/**
 * What a chart's header says about its points: the API's buckets (one per step, each an aggregate), the live
 * samples pushed since the last bucket, and how many of them are drawn when LTTB had to downsample.
 */
export function pointsSummary(series: Series, live: Array<[number, number]> = []): string {
  const buckets = series.points.length;
  const total = mergeLive(series, live).length;
  const pushed = total - buckets;
  const what = `${count(buckets, 'bucket')}${pushed > 0 ? ` + ${count(pushed, 'live sample')}` : ''}`;
  return total > DRAW_LIMIT ? `${what}, ${DRAW_LIMIT.toLocaleString('en')} drawn (LTTB)` : `${what} drawn`;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`;
}

/** The option of one metric's chart on the device page: its line, the anomaly windows, its forecast. */
export function deviceChartOption(
  series: Series,
  unit: string,
  range: { fromMs: number; toMs: number },
  anomalies: Anomaly[],
  forecast: Forecast | undefined,
  live: Array<[number, number]> = [],
): ChartOption {
  return timeChartOption({
    series: [{ name: series.metric, points: downsamplePairs(mergeLive(series, live), DRAW_LIMIT) }],
    range,
    unit,
    anomalies: anomalies.map((a) => ({
      fromMs: Date.parse(a.windowStart),
      toMs: Math.max(Date.parse(a.windowEnd), Date.parse(a.windowStart) + series.stepMs),
      label: `anomaly ${a.score.toFixed(2)} (${a.contributions
        .slice(0, 2)
        .map((c) => c.metric)
        .join(', ')})`,
    })),
    forecast: forecast
      ? {
          points: forecast.points.map((p) => ({
            ts: Date.parse(p.ts),
            value: p.value,
            lower: p.lower,
            upper: p.upper,
          })),
          limitUpper: forecast.limitUpper,
          limitLower: forecast.limitLower,
        }
      : undefined,
  });
}

/** "in 3 h 20 min", "in 2 d 4 h" for a time to failure in milliseconds. */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
