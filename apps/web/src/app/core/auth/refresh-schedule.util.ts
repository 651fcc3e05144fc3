/**
 * When to refresh an access token that lives `expiresInS` seconds: a minute early (or at 80 % of a short
 * lifetime), never sooner than 5 s, so a clock hiccup cannot spin the refresh loop.
 */
export function refreshDelayMs(expiresInS: number): number {
  const lifetimeMs = Math.max(0, expiresInS) * 1000;
  const early = lifetimeMs > 300_000 ? lifetimeMs - 60_000 : lifetimeMs * 0.8;
  return Math.max(5_000, Math.round(early));
}
