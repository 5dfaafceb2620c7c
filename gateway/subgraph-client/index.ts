// The gateway's subgraph client, as queries and subscriptions use it: where each subgraph is
// reached (the supergraph's routing URL, or a *_URL variable), and its data source, with the
// features' call wrappers (gateway/feature.ts `subgraphCall`, e.g. deduplication) around every call.
import type { GatewayConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/logger.js';
import { isServiceName } from '../../lib/services.js';
import type { GatewayFeature } from '../feature.js';
import { SubgraphDataSource } from './data-source.js';
import type { Route, SubgraphCall, SubgraphClient } from './types.js';

/** Where a subgraph is reached: the supergraph's routing URL, unless a *_URL variable replaces it. */
const routeOf = (config: GatewayConfig): Route => (name, url) => {
  const routed = (isServiceName(name) ? config.subgraphUrls[name] : undefined) ?? url;
  if (!routed) throw new Error(`subgraph ${name} has no routing URL in the supergraph`);
  return routed;
};

export function subgraphClient(config: GatewayConfig, logger: Logger, features: readonly GatewayFeature[]): SubgraphClient {
  // The first feature's wrapper is the outermost.
  const wrap = (call: SubgraphCall) => features.reduceRight((next, feature) => feature.subgraphCall?.(next) ?? next, call);
  return {
    route: routeOf(config),
    buildService: ({ name, url }) => new SubgraphDataSource({ name, url, timeoutMs: config.subgraphTimeoutMs, wrap, logger }),
  };
}
