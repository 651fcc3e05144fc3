import { RobustGroupModel, type RobustGroupOptions } from '../models/robust-group-model.js';

export interface MarginCalibrationOptions {
  /** Rows of each simulated file: the recording is cut into consecutive pieces this long. */
  segmentRows: number;
  /** Rows each piece's model is fitted on, as in the protocol being calibrated for. */
  trainRows: number;
  /** The false alarm rate the margin must keep on normal data, as a fraction (0.1 = 10 %). */
  targetFalseAlarmRate: number;
  /** Candidate margins, tried smallest first. */
  grid?: readonly number[];
  group?: Partial<RobustGroupOptions>;
}

export interface MarginCalibration {
  margin: number;
  /** False alarm rate at each candidate margin. */
  curve: Array<{ margin: number; falseAlarmRate: number }>;
  segments: number;
  scoredRows: number;
}

const DEFAULT_GRID = Array.from({ length: 17 }, (_, i) => 1 + i * 0.25);

/**
 * The group model's one operating point from data known to be normal (never from test rows): the normal
 * recording is cut into pieces shaped like the files to be scored, each piece's model is fitted on its
 * first rows and scores the rest, and the smallest margin whose share of flagged rows stays within the
 * target is chosen. The sensitivity then means "this many false alarms on healthy data".
 */
export function calibrateMargin(
  features: readonly string[],
  rows: readonly (readonly number[])[],
  options: MarginCalibrationOptions,
): MarginCalibration {
  const grid = options.grid ?? DEFAULT_GRID;
  const scores: number[] = [];
  let segments = 0;
  for (let start = 0; start + options.segmentRows <= rows.length; start += options.segmentRows) {
    const piece = rows.slice(start, start + options.segmentRows);
    const model = RobustGroupModel.fit(features, piece.slice(0, options.trainRows), options.group);
    const scored = model.scoreSeries(piece);
    for (let i = options.trainRows; i < scored.length; i++) scores.push(scored[i]!.raw);
    segments++;
  }
  if (segments === 0)
    throw new Error(
      `normal recording has ${rows.length} rows, fewer than one piece of ${options.segmentRows}`,
    );
  const curve = grid.map((margin) => ({
    margin,
    falseAlarmRate: scores.filter((s) => s > margin).length / scores.length,
  }));
  const chosen =
    curve.find((c) => c.falseAlarmRate <= options.targetFalseAlarmRate) ?? curve[curve.length - 1]!;
  return { margin: chosen.margin, curve, segments, scoredRows: scores.length };
}
