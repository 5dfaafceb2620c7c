// One GraphQL request over HTTP POST, with a bearer token when given: what the benchmarks send
// outside their timed load (logging in, finding ids, checking answers, readiness).
/** Where a service on `port` of this machine serves GraphQL. */
export const graphqlUrl = (port: number) => `http://localhost:${port}/graphql`;

export interface GraphQLAnswer {
  data?: any;
  errors?: unknown[];
}

export async function post(url: string, body: { query: string; variables?: Record<string, unknown> }, token?: string): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return (await response.json()) as GraphQLAnswer;
}

/** Whether `url` answers `{ __typename }` with a 2xx status (false while nothing listens). */
export function answers(url: string): Promise<boolean> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  }).then((r) => r.ok, () => false);
}
