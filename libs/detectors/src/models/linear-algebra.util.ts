/** Inverse of a small symmetric positive-definite matrix by Gauss-Jordan elimination with partial pivoting. */
export function invertSymmetric(matrix: readonly (readonly number[])[]): number[][] {
  const n = matrix.length;
  const a = matrix.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let i = 0; i < n; i++) {
    let pivot = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(a[r]![i]!) > Math.abs(a[pivot]![i]!)) pivot = r;
    [a[i], a[pivot]] = [a[pivot]!, a[i]!];
    const p = a[i]![i]!;
    if (Math.abs(p) < 1e-12) throw new Error('matrix is singular');
    const rowI = a[i]!;
    for (let j = 0; j < 2 * n; j++) rowI[j]! /= p;
    for (let r = 0; r < n; r++) {
      if (r === i) continue;
      const rowR = a[r]!;
      const factor = rowR[i]!;
      if (factor === 0) continue;
      for (let j = 0; j < 2 * n; j++) rowR[j]! -= factor * rowI[j]!;
    }
  }
  return a.map((row) => row.slice(n));
}
