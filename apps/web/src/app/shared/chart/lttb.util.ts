/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the first and last points and, from
 * each bucket, the point forming the largest triangle with the previous pick and the next bucket's mean, so
 * peaks and troughs survive while a 100k-point series draws as a few thousand.
 */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): [number[], number[]] {
  const n = xs.length;
  if (threshold >= n || threshold < 3) return [Array.from(xs), Array.from(ys)];
  const outX: number[] = [xs[0]!];
  const outY: number[] = [ys[0]!];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const span = Math.max(1, nextEnd - nextStart);
    avgX /= span;
    avgY /= span;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[a]!;
    const ay = ys[a]!;
    let best = -1;
    let pick = start;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (ys[j]! - ay) - (ax - xs[j]!) * (avgY - ay));
      if (area > best) {
        best = area;
        pick = j;
      }
    }
    outX.push(xs[pick]!);
    outY.push(ys[pick]!);
    a = pick;
  }
  outX.push(xs[n - 1]!);
  outY.push(ys[n - 1]!);
  return [outX, outY];
}

/** Points as [time, value] pairs, downsampled when there are more than `max`. */
export function downsamplePairs(
  points: Array<{ ts: string; value: number }>,
  max = 2000,
): Array<[number, number]> {
  const xs = points.map((p) => Date.parse(p.ts));
  const ys = points.map((p) => p.value);
  const [dx, dy] = lttb(xs, ys, max);
  return dx.map((x, i) => [x, dy[i]!]);
}
