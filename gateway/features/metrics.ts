// The gateway's own metrics as a gateway feature (useMetrics): Apollo Gateway plans with a counted
// query-plan cache (gateway_query_plan_cache_total). The other gateway metrics (gateway/metrics.ts)
// are counted where they happen: subgraph calls, usage, subscriptions.
import type { QueryPlan, QueryPlanCache } from '@apollo/query-planner';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { GatewayFeature } from '../feature.js';
import { gatewayMetrics, type GatewayMetrics } from '../metrics.js';

/** Apollo Gateway's default plan cache (an LRU of about 30 MiB), counting its hits and misses. */
export function countedQueryPlanCache(metrics: GatewayMetrics = gatewayMetrics()): QueryPlanCache {
  const cache = new InMemoryLRUCache<QueryPlan>({ maxSize: 30 * 2 ** 20, sizeCalculation: (plan) => JSON.stringify(plan).length });
  return {
    async get(key) {
      const plan = await cache.get(key);
      metrics.queryPlanCache.inc({ result: plan ? 'hit' : 'miss' });
      return plan;
    },
    set: (key, value, options) => cache.set(key, value, options),
    delete: (key) => cache.delete(key),
    // A new supergraph makes every plan stale.
    clear: () => cache.clear(),
  };
}

export function useMetrics(metrics: GatewayMetrics = gatewayMetrics()): GatewayFeature {
  return { queryPlanCache: countedQueryPlanCache(metrics) };
}
