// GraphQL over HTTP as the tests send it, written once: `send` (POST with a JSON body, or GET with
// the request in the query string), `sendBatch` (a batch: any JSON body, answered by an array or by
// one refusal), `graphql` for the common POST of a query, and a free port.
import { createServer } from 'node:net';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; field?: string; [key: string]: unknown } }[];
  extensions?: Record<string, unknown>;
}

export type HttpResult<T> = { status: number; headers: Headers } & GraphQLResponse<T>;

export interface OperationRequest {
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

export interface SendOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** E.g. `AbortSignal.timeout(ms)` for a request that must be answered at all within a time. */
  signal?: AbortSignal;
}

/**
 * Sends a GraphQL request by POST (JSON body) or GET (query string), with the given headers. A body
 * that is not JSON comes back as one error carrying the text.
 */
export async function send<T = Record<string, any>>(url: string, request: OperationRequest, { method = 'POST', headers = {}, signal }: SendOptions = {}): Promise<HttpResult<T>> {
  let response: Response;
  if (method === 'GET') {
    const target = new URL(url);
    for (const [key, value] of Object.entries(request)) {
      if (value !== undefined) target.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
    response = await fetch(target, { headers, signal });
  } else {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(request), signal });
  }
  const text = await response.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    body = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, headers: response.headers, ...body };
}

/** A batch's answer: one result per operation, in order, or (refused whole) the refusal's errors. */
export type BatchResult = { status: number; headers: Headers; results?: GraphQLResponse[] } & GraphQLResponse;

/**
 * POSTs any JSON body as a batch (normally an array of operations; hostile tests send other
 * shapes). An array answer comes back as `results`, a single object's `errors` as they are.
 */
export async function sendBatch(url: string, body: unknown, { headers = {}, signal }: Omit<SendOptions, 'method'> = {}): Promise<BatchResult> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  const answer = Array.isArray(parsed) ? { results: parsed as GraphQLResponse[] } : (parsed as GraphQLResponse);
  return { status: response.status, headers: response.headers, ...answer };
}

export const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** A query or mutation by POST, as a client sends it, with the token (if any) as a bearer token. */
export const graphql = <T = Record<string, any>>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<HttpResult<T>> =>
  send<T>(url, { query, variables }, { headers: bearer(token) });

/** A port that nothing listens on now (the OS's choice), e.g. for a service that is down. */
export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
