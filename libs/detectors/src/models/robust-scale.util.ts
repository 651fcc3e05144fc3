import { quantile } from '../stats.util.js';

export interface LocationScale {
  center: number;
  scale: number;
}

/**
 * Median and a robust scale of one channel: 1.4826 x MAD (the standard deviation for normal data, blind
 * to outliers), bounded below by a tenth of the standard deviation (for readings on a coarse grid, whose
 * MAD is 0), by `relativeFloor` x |median|, and by an absolute floor. A constant channel (nothing to learn
 * its noise from) gets 0.5 % of its level, or 1e-3 at level 0: a change must be at least that large to
 * count, instead of any change being infinitely many scales away.
 */
export function robustLocationScale(values: readonly number[], relativeFloor: number): LocationScale {
  const center = quantile(values, 0.5);
  const mad =
    1.4826 *
    quantile(
      values.map((v) => Math.abs(v - center)),
      0.5,
    );
  let sumSq = 0;
  for (const v of values) sumSq += (v - center) ** 2;
  const sd = Math.sqrt(sumSq / Math.max(1, values.length));
  const level = Math.abs(center);
  const constant = mad === 0 && sd === 0 ? Math.max(0.005 * level, 1e-3) : 1e-9 * (level + 1);
  return { center, scale: Math.max(mad, 0.1 * sd, relativeFloor * level, constant) };
}
