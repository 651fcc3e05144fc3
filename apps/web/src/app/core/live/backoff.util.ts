/** Exponential backoff with full jitter: 0.5 s, 1 s, 2 s ... capped at 30 s. */
export function backoffMs(attempt: number, random = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
