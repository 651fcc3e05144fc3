import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import { AuthService, errorMessage } from '../auth/auth.service';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type QueryParams = Record<string, string | number | boolean | undefined | null>;

interface GraphqlResponse<T> {
  data?: T;
  errors?: Array<{
    message: string;
    extensions?: { code?: string; status?: number; originalError?: { statusCode?: number } };
  }>;
}

/**
 * The one way the console talks to the API: GraphQL for reads, REST for auth and administration. Every call
 * carries the in-memory access token; a 401 refreshes the session once and retries, then signs out.
 */
@Injectable({ providedIn: 'root' })
export class ApiClient {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);

  async query<T>(
    document: string,
    variables: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<T> {
    const body = JSON.stringify({ query: document, variables: dropUndefined(variables) });
    const res = await this.send('/api/graphql', { method: 'POST', body, signal }, true);
    const json = (await res.json()) as GraphqlResponse<T>;
    if (json.errors?.length) {
      const first = json.errors[0]!;
      const status = first.extensions?.originalError?.statusCode ?? first.extensions?.status;
      throw new ApiError(first.message, status ?? (res.ok ? 400 : res.status));
    }
    if (!json.data) throw new ApiError('empty GraphQL response', res.status);
    return json.data;
  }

  async get<T>(path: string, params: QueryParams = {}, signal?: AbortSignal): Promise<T> {
    const res = await this.send(`${path}${queryString(params)}`, { method: 'GET', signal });
    return (await res.json()) as T;
  }

  async post<T>(path: string, body: unknown): Promise<T | undefined> {
    const res = await this.send(path, { method: 'POST', body: JSON.stringify(body) });
    return res.status === 204 ? undefined : ((await res.json()) as T);
  }

  async put<T>(path: string, body: unknown): Promise<T | undefined> {
    const res = await this.send(path, { method: 'PUT', body: JSON.stringify(body) });
    return res.status === 204 ? undefined : ((await res.json()) as T);
  }

  async delete(path: string): Promise<void> {
    await this.send(path, { method: 'DELETE' });
  }

  private async send(url: string, init: RequestInit, graphql = false): Promise<Response> {
    const attempt = () =>
      fetch(url, {
        ...init,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.auth.token() ?? ''}` },
      });
    let res = await attempt();
    if (res.status === 401 || (graphql && (await isUnauthenticated(res)))) {
      if (await this.auth.refresh()) res = await attempt();
      else {
        await this.router.navigate(['/sign-in'], { queryParams: { next: this.router.url } });
        throw new ApiError('session ended: sign in again', 401);
      }
    }
    if (!res.ok && !(graphql && res.status < 500)) throw new ApiError(await errorMessage(res), res.status);
    return res;
  }
}

/** GraphQL answers 200 with an UNAUTHENTICATED error when the token expired. */
async function isUnauthenticated(res: Response): Promise<boolean> {
  if (res.status === 401) return true;
  try {
    const json = (await res.clone().json()) as GraphqlResponse<unknown>;
    return (json.errors ?? []).some(
      (e) => e.extensions?.code === 'UNAUTHENTICATED' || e.extensions?.originalError?.statusCode === 401,
    );
  } catch {
    return false;
  }
}

export function queryString(params: QueryParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function dropUndefined(variables: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables).filter(([, v]) => v !== undefined && v !== ''));
}
