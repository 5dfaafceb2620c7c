// In-flight deduplication of identical subgraph queries: while one call is on its way, the same
// query with the same variables and the same Authorization header to the same subgraph waits for
// that call's answer instead of making its own. Popular pages (a home feed, a product everyone is
// looking at) then cost a subgraph one request per moment, not one per client.
//
// Only queries are shared (a mutation always runs), and the key holds the caller's token, so two
// users never share an answer: a subgraph's answer to a query depends on nothing else it is sent
// (the request id and the client address are for logs and for login throttling, a mutation).
//
// A gateway feature (useDeduplication, gateway/feature.ts): it wraps the subgraph client's calls.
import type { GatewayFeature } from '../feature.js';
import type { SubgraphAnswer } from './types.js';

/** DEDUPE_SUBGRAPH_QUERIES: off, the feature brings nothing and every call runs on its own. */
export function useDeduplication(enabled: boolean): GatewayFeature {
  if (!enabled) return {};
  return {
    // One table of calls in flight per data source (that is, per subgraph).
    subgraphCall(next) {
      const shared = inflight<SubgraphAnswer>();
      return (url, init) => shared(dedupeKey(url, init?.method ?? 'POST', (init?.headers ?? {}) as Record<string, string>, init?.body as string | undefined), () => next(url, init));
    },
  };
}

/** The key of a call that may be shared, or undefined for one that must run on its own. */
export function dedupeKey(url: string, method: string, headers: Record<string, string>, body: string | undefined): string | undefined {
  if (method !== 'POST' || !body || !isQuery(body)) return undefined;
  return `${url}\n${headers.authorization ?? ''}\n${body}`;
}

/**
 * Whether the JSON body's operation is a query. The query planner prints its subgraph operations
 * as `query …` or `{ … }` and mutations as `mutation …`; anything it does not recognise runs alone.
 */
function isQuery(body: string): boolean {
  const start = body.indexOf('"query":"');
  if (start === -1) return false;
  const operation = body.slice(start + 9, start + 15);
  return operation.startsWith('query') || operation.startsWith('{');
}

/** Runs `call` once per key at a time; callers with the same key meanwhile share its answer. */
export function inflight<T>() {
  const calls = new Map<string, Promise<T>>();
  return (key: string | undefined, call: () => Promise<T>): Promise<T> => {
    if (key === undefined) return call();
    const running = calls.get(key);
    if (running) return running;
    const started = call().finally(() => calls.delete(key));
    calls.set(key, started);
    return started;
  };
}
