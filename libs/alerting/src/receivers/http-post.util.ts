import type { NotifyResult } from '../notify/notification.type.js';

/** POSTs and classifies the answer like Alertmanager's Retrier.Check: 5xx and 429 retry, other 4xx do not. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  timeoutMs = 10_000,
): Promise<NotifyResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await res.text().catch(() => '');
    if (res.ok) return { ok: true, recoverable: false, status: res.status };
    return {
      ok: false,
      recoverable: res.status >= 500 || res.status === 429,
      status: res.status,
      error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    return { ok: false, recoverable: true, error: `${e.name}: ${e.cause?.code ?? e.message}` };
  }
}
