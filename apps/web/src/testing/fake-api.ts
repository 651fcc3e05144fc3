/**
 * A fake HTTP transport for component specs: it stands in for `fetch`, answers GraphQL operations by their
 * root fields and REST calls by method and path, and records every request so a spec can assert what the
 * component asked for. Specs exercise the real ApiClient, AuthService and data services above it; only the
 * network is replaced (the real API is exercised by the browser tests in test/browser).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  authorization: string | null;
  /** GraphQL only: root fields of the operation (aliases resolved), and its variables. */
  fields: string[];
  variables: Record<string, unknown>;
}

type GraphqlHandler = (variables: Record<string, unknown>, args: Record<string, unknown>) => unknown;
type RestHandler = (req: RecordedRequest) => { status?: number; body?: unknown } | unknown;

export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly graphql = new Map<string, GraphqlHandler>();
  private readonly rest = new Map<string, RestHandler>();
  private original: typeof fetch | undefined;

  /**
   * Answers a GraphQL root field (e.g. `devices`) with the handler's value, for every alias of it; a handler
   * that throws answers as a resolver error would.
   */
  onQuery(field: string, handler: GraphqlHandler): this {
    this.graphql.set(field, handler);
    return this;
  }

  /** Answers `METHOD /path`; a handler may return `{ status, body }` or just the body (200). */
  on(method: string, path: string, handler: RestHandler): this {
    this.rest.set(`${method.toUpperCase()} ${path}`, handler);
    return this;
  }

  /** A signed-in session of `role`: login and refresh answer with a token. */
  session(role: 'viewer' | 'operator' | 'admin', username = `${role}-1`): this {
    const body = { accessToken: `token-${role}`, expiresIn: 900, role, username };
    this.on('POST', '/api/auth/login', () => body);
    this.on('POST', '/api/auth/refresh', () => body);
    this.on('POST', '/api/auth/logout', () => ({ status: 204 }));
    this.on('GET', '/api/auth/status', () => ({ adminExists: true }));
    return this;
  }

  graphqlCalls(field: string): RecordedRequest[] {
    return this.requests.filter((r) => r.fields.includes(field));
  }

  calls(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  install(): this {
    this.original = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      this.handle(input, init)) as typeof fetch;
    return this;
  }

  uninstall(): void {
    if (this.original) globalThis.fetch = this.original;
  }

  private async handle(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(String(input instanceof Request ? input.url : input), 'http://console.test');
    const method = (init.method ?? 'GET').toUpperCase();
    const body = typeof init.body === 'string' && init.body ? (JSON.parse(init.body) as unknown) : undefined;
    const headers = new Headers(init.headers);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const req: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      body,
      authorization: headers.get('authorization'),
      fields: [],
      variables: {},
    };
    if (url.pathname === '/api/graphql' && method === 'POST') {
      const { query, variables = {} } = body as { query: string; variables?: Record<string, unknown> };
      req.variables = variables;
      const selections = rootSelections(query);
      req.fields = selections.map((s) => s.field);
      this.requests.push(req);
      const data: Record<string, unknown> = {};
      for (const s of selections) {
        const handler = this.graphql.get(s.field);
        if (!handler) return json(200, { errors: [{ message: `fake API: no handler for ${s.field}` }] });
        try {
          data[s.alias] = handler(variables, resolveArgs(s.args, variables));
        } catch (error) {
          // A handler that throws is a resolver error: GraphQL answers 200 with `errors`.
          return json(200, { errors: [{ message: (error as Error).message, path: [s.alias] }] });
        }
      }
      return json(200, { data });
    }
    this.requests.push(req);
    const handler = this.rest.get(`${method} ${url.pathname}`);
    if (!handler) return json(404, { message: `fake API: no handler for ${method} ${url.pathname}` });
    const out = handler(req) as { status?: number; body?: unknown } | undefined;
    if (out && typeof out === 'object' && 'status' in out && typeof out.status === 'number')
      return out.status === 204 ? new Response(null, { status: 204 }) : json(out.status, out.body ?? {});
    return json(200, out);
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

interface Selection {
  alias: string;
  field: string;
  args: Record<string, string>;
}

/** The root fields of a query document: `alias: field(arg: $var, …) { … }` at depth one. */
function rootSelections(document: string): Selection[] {
  const out: Selection[] = [];
  let depth = 0;
  let token = '';
  for (const c of document) {
    if (c === '{') {
      if (depth === 1) {
        const m = /(?:(\w+)\s*:\s*)?(\w+)\s*(?:\(([^)]*)\))?\s*$/.exec(token);
        if (m) out.push({ alias: m[1] ?? m[2]!, field: m[2]!, args: parseArgs(m[3] ?? '') });
      }
      depth++;
      token = '';
    } else if (c === '}') {
      depth--;
      token = '';
    } else if (depth === 1) token += c;
  }
  return out;
}

function parseArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /(\w+)\s*:\s*(\S+)/.exec(part);
    if (m) args[m[1]!] = m[2]!;
  }
  return args;
}

function resolveArgs(
  args: Record<string, string>,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).map(([k, v]) => [k, v.startsWith('$') ? variables[v.slice(1)] : JSON.parse(v)]),
  );
}
