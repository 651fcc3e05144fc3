export interface ScalerState {
  mean: number[];
  std: number[];
}

/**
 * Per-feature standardisation fitted on training rows only, so test data never leaks into the model.
 * A constant feature gets std 1: it then contributes its raw offset from the training value, which is what
 * makes a stuck-then-moving sensor visible instead of dividing by zero.
 */
export class StandardScaler {
  private constructor(readonly state: ScalerState) {}

  static fit(rows: readonly (readonly number[])[]): StandardScaler {
    if (rows.length === 0) throw new Error('cannot fit a scaler on no rows');
    const features = rows[0]!.length;
    const mean = new Array<number>(features).fill(0);
    const std = new Array<number>(features).fill(0);
    for (const row of rows) for (let f = 0; f < features; f++) mean[f]! += row[f]!;
    for (let f = 0; f < features; f++) mean[f]! /= rows.length;
    for (const row of rows) for (let f = 0; f < features; f++) std[f]! += (row[f]! - mean[f]!) ** 2;
    for (let f = 0; f < features; f++) {
      const s = Math.sqrt(std[f]! / rows.length);
      std[f] = s > 1e-12 ? s : 1;
    }
    return new StandardScaler({ mean, std });
  }

  static from(state: ScalerState): StandardScaler {
    return new StandardScaler({ mean: [...state.mean], std: [...state.std] });
  }

  transform(row: readonly number[]): number[] {
    return row.map((v, f) => (v - this.state.mean[f]!) / this.state.std[f]!);
  }
}
