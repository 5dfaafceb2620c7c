// The gateway: serves the composed supergraph, verifies the caller's token, and assembles its
// features (gateway/feature.ts) from one list. Each subgraph call forwards the caller's
// Authorization header and request id (gateway/subgraph-client/).
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { Tokens } from '../lib/security/auth.js';
import type { GatewayConfig } from '../lib/config.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/graphql-server.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { localServiceUrl, SERVICE_NAMES } from '../lib/services.js';
import type { GatewayContext } from './context.js';
import type { GatewayFeature } from './feature.js';
import { useAuthorization } from './features/authorization.js';
import { useBatching } from './features/batching.js';
import { useCost } from './features/cost.js';
import { useCostBudget } from './features/cost-budget.js';
import { useDefer } from './features/defer.js';
import { useMetrics } from './features/metrics.js';
import { useResponseCache } from './features/response-cache.js';
import { useSupergraph } from './features/supergraph.js';
import { useTrustedDocuments } from './features/trusted-documents.js';
import { UsageRecorder, useUsage } from './features/usage.js';
import { useWebShop } from './features/web-shop.js';
import { useDeduplication } from './subgraph-client/dedup.js';
import { subgraphClient } from './subgraph-client/index.js';
import type { SubgraphClient } from './subgraph-client/types.js';
import { useSubscriptions } from './subscriptions/index.js';

/** Every feature of the gateway, in order: their plugins run, and their subgraph-call wrappers nest, in this order. */
function gatewayFeatures(config: GatewayConfig, tokens: Tokens, logger: Logger): GatewayFeature[] {
  const documents = useTrustedDocuments(config.trustedDocuments);
  const usage = new UsageRecorder();
  const authorization = useAuthorization({ rejectUnauthorized: config.rejectUnauthorized, logger });
  const budget = useCostBudget({ ...config.costBudget, limits: config.limits, logger });
  const cost = useCost({ assumedListSize: config.costAssumedListSize, usage });
  return [
    // The supergraph file, reloaded in place when it changes or on SIGHUP; GET /ready names it by hash.
    useSupergraph({ path: config.introspect ? undefined : config.supergraphPath, logger }),
    useMetrics(),
    documents,
    // A JSON array of operations in one POST: checked as a whole, each operation under the same trusted-documents policy.
    useBatching({ maxOperations: config.batching?.maxOperations ?? 0, limits: config.limits, admit: documents.check }),
    useResponseCache(config.responseCache, logger),
    // Usage by client: metrics and GET /usage.
    useUsage(tokens, usage),
    // Cost by the schemas' @cost and @listSize: estimated and actual per operation, by client (metrics and GET /usage).
    cost,
    // The schemas' access rules (@authenticated, @requiresScopes, @policy): denied fields are taken out before planning.
    // After usage, which records what clients asked for; before deduplication and subscriptions.
    authorization,
    // Each client's cost budget over time, spent by the operation as planned (after the access rules).
    budget,
    // @defer: queries answered in parts over multipart/mixed, taken before Apollo Server (which has no @defer), under the same checks.
    useDefer({ tokens, limits: config.limits, admit: documents.check, bodyOf: documents.bodyOf, usage, authorize: authorization.deniedPaths, spend: budget.spend, recordCost: cost.record, production: config.production, logger }),
    useDeduplication(config.dedupeSubgraphQueries),
    // graphql-ws and graphql-sse on the same /graphql, planned with the same supergraph, under the same trusted-documents policy and access rules.
    useSubscriptions({
      tokens,
      limits: config.limits,
      bounds: config.subscriptions,
      admit: documents.check,
      authorize: authorization.deniedPaths,
      logger,
      production: config.production,
    }),
    useWebShop(config.webRoot),
  ];
}

function createGateway(config: GatewayConfig, logger: Logger, features: GatewayFeature[], subgraphs: SubgraphClient) {
  // @apollo/gateway reads only this variable: unless it is set, it reports usage metrics to Apollo
  // and probes cloud metadata servers at start, which a private deployment should not do unasked.
  process.env.APOLLO_TELEMETRY_DISABLED = config.apolloTelemetry ? 'false' : 'true';
  const urls = config.subgraphUrls;
  const caches = features.flatMap((f) => (f.queryPlanCache ? [f.queryPlanCache] : []));
  if (caches.length > 1) throw new Error('more than one gateway feature gives a query-plan cache');
  const managers = features.flatMap((f) => (f.supergraphManager ? [f.supergraphManager] : []));
  if (managers.length > 1) throw new Error('more than one gateway feature gives the supergraph');
  const gateway = new ApolloGateway({
    logger,
    ...(caches[0] ? { queryPlannerConfig: { cache: caches[0] } } : {}),
    supergraphSdl:
      managers[0] ??
      new IntrospectAndCompose({
        subgraphs: SERVICE_NAMES.map((name) => ({ name, url: urls[name] ?? localServiceUrl(name) })),
        pollIntervalInMs: 5_000,
      }),
    // Routes by the supergraph's routing URLs; a *_URL variable replaces one subgraph's, only when set.
    buildService: ({ name, url }) => subgraphs.buildService({ name, url: subgraphs.route(name, url) }),
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl, apiSchema }) => {
    for (const feature of features) feature.onSupergraph?.({ coreSupergraphSdl, apiSchema, subgraphs });
  });
  return gateway;
}

export async function startGateway(config: GatewayConfig, logger: Logger = createLogger('gateway', config.logLevel)): Promise<RunningServer> {
  const tokens = new Tokens(config.keys);
  const features = gatewayFeatures(config, tokens, logger);
  const subgraphs = subgraphClient(config, logger, features);
  const gateway = createGateway(config, logger, features, subgraphs);
  const running = await startGraphQLServer<GatewayContext>({
    service: 'gateway',
    source: { gateway, introspection: !config.production },
    port: config.port,
    trustedProxies: config.trustedProxies,
    logger,
    production: config.production,
    limits: config.limits,
    context: async (req) => {
      // Rejects a forged or expired token here, before any subgraph is called (they check again).
      const viewer = await tokens.fromAuthorization(req.headers.authorization);
      // Trusted documents: a refused operation is not even parsed.
      for (const feature of features) feature.admit?.(req, viewer);
      return { viewer, authorization: req.headers.authorization, clientAddress: req.ip, requestId: req.requestId, log: req.log };
    },
    extensions: features,
  });
  logger.info({ url: running.url, supergraph: config.introspect ? 'introspect' : config.supergraphPath }, 'gateway ready');
  return running;
}
