import { seededRandom } from '../seeded-random.util.js';

/** A labelled single-metric series shaped like NAB's files: timestamp, value, anomaly (window rows = 1). */
export interface SyntheticSeries {
  name: string;
  timestampsMs: number[];
  values: number[];
  /** 1 inside each anomaly's window (NAB: 10 % of the series split over its anomalies, centred on each). */
  labels: number[];
  /** Rows where an anomaly starts. */
  anomalyRows: number[];
}

type Kind = 'machine-temperature' | 'traffic' | 'cpu' | 'counts' | 'level';
type Fault = 'spike' | 'dip' | 'shift' | 'drift' | 'noise' | 'flat';

const KINDS: Kind[] = ['machine-temperature', 'traffic', 'cpu', 'counts', 'level'];
const FAULTS: Fault[] = ['spike', 'dip', 'shift', 'drift', 'noise', 'flat'];

/**
 * A corpus of realistic single-metric series with known anomalies, for checking the univariate detector
 * without tuning it on any public benchmark: a machine temperature (slow cycle, AR(1) noise), web traffic
 * (daily and weekly seasonality, Poisson counts), cloud CPU (bursty, heavy-tailed), small event counts and
 * a level with occasional healthy steps; faults are spikes, dips, level shifts, slow drifts, noise bursts
 * and a stuck value. 5-minute steps, 4,000 rows, 1-3 anomalies after the first 15 %.
 */
export function syntheticCorpus(count: number, seed: number): SyntheticSeries[] {
  return Array.from({ length: count }, (_, i) => syntheticSeries(KINDS[i % KINDS.length]!, seed + i));
}

export function syntheticSeries(kind: Kind, seed: number, rows = 4000): SyntheticSeries {
  const random = seededRandom(seed);
  const gauss = () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const poisson = (lambda: number) => {
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss()));
    let k = 0;
    let p = 1;
    const l = Math.exp(-lambda);
    do {
      k++;
      p *= random();
    } while (p > l);
    return k - 1;
  };
  const stepMs = 300_000;
  const day = 288;
  const base: number[] = [];
  let ar = 0;
  let level = 50 + 20 * random();
  for (let t = 0; t < rows; t++) {
    ar = 0.8 * ar + gauss();
    const daily = Math.sin((2 * Math.PI * t) / day);
    switch (kind) {
      case 'machine-temperature':
        base.push(80 + 3 * daily + 0.6 * ar);
        break;
      case 'traffic': {
        const weekend = Math.floor(t / day) % 7 >= 5 ? 0.6 : 1;
        base.push(200 * weekend * (1.2 + daily));
        break;
      }
      case 'cpu':
        base.push(30 + 5 * daily + 4 * ar + (random() < 0.02 ? 25 * random() : 0));
        break;
      case 'counts':
        base.push(3 + 1.5 * daily);
        break;
      case 'level':
        if (random() < 0.001) level += 5 * gauss();
        base.push(level + 0.8 * ar);
        break;
    }
  }
  const anomalies = 1 + Math.floor(random() * 3);
  const start = Math.floor(0.2 * rows);
  const span = Math.floor((rows - start - 200) / anomalies);
  const anomalyRows: number[] = [];
  const values = [...base];
  const scale = kind === 'traffic' ? 60 : kind === 'counts' ? 2 : kind === 'cpu' ? 8 : 2;
  for (let a = 0; a < anomalies; a++) {
    const at = start + a * span + Math.floor(random() * (span - 150));
    const fault = FAULTS[Math.floor(random() * FAULTS.length)]!;
    anomalyRows.push(at);
    const len = 20 + Math.floor(random() * 60);
    for (let t = at; t < Math.min(rows, at + len); t++) {
      switch (fault) {
        case 'spike':
          if (t < at + 3) values[t] = base[t]! + 6 * scale;
          break;
        case 'dip':
          if (t < at + 3) values[t] = base[t]! - 6 * scale;
          break;
        case 'shift':
          values[t] = base[t]! + 3 * scale;
          break;
        case 'drift':
          values[t] = base[t]! + (4 * scale * (t - at)) / len;
          break;
        case 'noise':
          values[t] = base[t]! + 3 * scale * gauss();
          break;
        case 'flat':
          values[t] = values[at - 1]!;
          break;
      }
    }
  }
  const out = values.map((v) => (kind === 'traffic' || kind === 'counts' ? poisson(Math.max(0, v)) : v));
  const labels = new Array<number>(rows).fill(0);
  const window = Math.floor((0.1 * rows) / anomalies);
  for (const at of anomalyRows)
    for (
      let t = Math.max(0, at - Math.floor(window / 2));
      t < Math.min(rows, at + Math.ceil(window / 2));
      t++
    )
      labels[t] = 1;
  return {
    name: `${kind}-${seed}`,
    timestampsMs: Array.from({ length: rows }, (_, t) => Date.UTC(2026, 0, 1) + t * stepMs),
    values: out.map((v) => Number(v.toFixed(3))),
    labels,
    anomalyRows,
  };
}
