// One load run against one URL with autocannon: a fixed number of connections sending the same
// POST for a fixed time; the figures a reader compares (requests/s, p50, p99).
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Transport errors, timeouts, non-2xx answers, and answers that differ from `expectBody`. */
  failures: number;
}

/** `expectBody`: every answer must be exactly this (the gateway's own answer before the run), or it counts as a failure. */
export async function load(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { connections: number; seconds: number; expectBody: string },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: options.connections,
    duration: options.seconds,
    expectBody: options.expectBody,
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}
