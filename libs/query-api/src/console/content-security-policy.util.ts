/** Host headers we echo into the policy: a host name or address and an optional port, nothing else. */
const HOST_PATTERN = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The console's Content-Security-Policy: its own scripts only (plus inline ones carrying this response's
 * nonce), no plugins, no framing, no other origins. Styles allow 'unsafe-inline' because Angular injects
 * component styles as <style> elements and ECharts and Material set inline styles; a nonce there would switch
 * 'unsafe-inline' off. The WebSocket origins of this host are named beside 'self' for graphql-ws, since
 * browsers before CSP Level 3 do not let 'self' cover ws: and wss:.
 */
export function consolePolicy(nonce: string, host: string | undefined): string {
  const sockets = host && HOST_PATTERN.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
