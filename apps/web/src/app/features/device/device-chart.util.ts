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
    series: [{ name: series.metric, points: downsamplePairs(mergeLive(series, live), 2000) }],
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
