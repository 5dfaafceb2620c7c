// One load run against one URL with autocannon: a fixed number of connections sending a workload's
// requests in turn for a fixed time; the figures a reader compares (requests/s, p50, p99).
import autocannon from 'autocannon';
import type { Variant } from './workload.js';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Transport errors, timeouts, non-2xx answers, and answers that are wrong (see `load`). */
  failures: number;
}

export const headersOf = (variant: Variant): Record<string, string> => ({
  'content-type': 'application/json',
  ...(variant.token ? { authorization: `Bearer ${variant.token}` } : {}),
});
export const bodyOf = (query: string, variant: Variant) => JSON.stringify({ query, variables: variant.variables });

/**
 * Loads `url` with `variants` in turn, each connection taking the next one. One variant: every
 * answer must be exactly `expectBody` (the gateway's own answer before the run). Several: every
 * answer must be a 200 without errors (each is checked against the other gateways before the runs).
 */
export async function load(
  url: string,
  query: string,
  variants: Variant[],
  options: { connections: number; seconds: number; expectBody?: string },
): Promise<LoadResult> {
  let next = 0;
  let wrong = 0;
  const [first] = variants;
  if (!first) throw new Error('a workload without requests');
  const varied = variants.length > 1;
  const result = await autocannon({
    url,
    method: 'POST',
    headers: headersOf(first),
    body: bodyOf(query, first),
    connections: options.connections,
    duration: options.seconds,
    ...(varied
      ? {
          requests: [
            {
              setupRequest: (request) => {
                const variant = variants[next++ % variants.length]!;
                return { ...request, method: 'POST', headers: headersOf(variant), body: bodyOf(query, variant) };
              },
              onResponse: (status, body) => {
                if (status === 200 && !body.includes('"errors"')) return;
                wrong++;
              },
            },
          ],
        }
      : { expectBody: options.expectBody }),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx + result.mismatches + wrong,
  };
}


