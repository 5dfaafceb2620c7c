// The gateway: serves the composed supergraph, verifies the caller's token, and forwards the
// Authorization header and the request id to every subgraph it calls.
import { readFileSync } from 'node:fs';
import { ApolloGateway, IntrospectAndCompose, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Tokens } from '../lib/security/auth.js';
import type { GatewayConfig } from '../lib/config.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/graphql-server.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { REQUEST_ID_HEADER } from '../lib/server/request-id.js';
import { isServiceName, localServiceUrl, SERVICE_NAMES } from '../lib/services.js';
import { webStatic } from './features/web-shop.js';
import { countedQueryPlanCache } from './metrics.js';
import { responseCache } from './features/response-cache.js';
import { SubgraphDataSource } from './subgraph-client/data-source.js';
import { gatewaySubscriptions } from './subscriptions/index.js';
import { trustedDocuments } from './features/trusted-documents.js';
import { UsageRecorder } from './features/usage.js';

export interface GatewayContext {
  authorization: string | undefined;
  /** The client's address as this gateway determined it (trusting only the configured proxies). */
  clientAddress: string | undefined;
  requestId: string;
  log: Logger;
}

class SubgraphSource extends SubgraphDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (!('requestId' in context)) return; // health checks and introspection have no client context
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    // Replaces whatever the client sent: subgraphs trust the gateway's word, not the client's.
    if (context.clientAddress) request.http?.headers.set('x-forwarded-for', context.clientAddress);
  }
}

/** Where a subgraph is reached: the supergraph's routing URL, unless a *_URL variable replaces it. */
const routeOf = (config: GatewayConfig) => (name: string, url: string | undefined): string => {
  const routed = (isServiceName(name) ? config.subgraphUrls[name] : undefined) ?? url;
  if (!routed) throw new Error(`subgraph ${name} has no routing URL in the supergraph`);
  return routed;
};

const serviceBuilder = (config: GatewayConfig, logger: Logger) => ({ name, url }: { name: string; url: string }) =>
  new SubgraphSource({ name, url, timeoutMs: config.subgraphTimeoutMs, dedupe: config.dedupeSubgraphQueries, logger });

function createGateway(config: GatewayConfig, logger: Logger) {
  // @apollo/gateway reads only this variable: unless it is set, it reports usage metrics to Apollo
  // and probes cloud metadata servers at start, which a private deployment should not do unasked.
  process.env.APOLLO_TELEMETRY_DISABLED = config.apolloTelemetry ? 'false' : 'true';
  const urls = config.subgraphUrls;
  const route = routeOf(config);
  const buildService = serviceBuilder(config, logger);
  return new ApolloGateway({
    logger,
    // The default plan cache, counted (gateway_query_plan_cache_total).
    queryPlannerConfig: { cache: countedQueryPlanCache() },
    supergraphSdl: config.introspect
      ? new IntrospectAndCompose({
          subgraphs: SERVICE_NAMES.map((name) => ({ name, url: urls[name] ?? localServiceUrl(name) })),
          pollIntervalInMs: 5_000,
        })
      : readFileSync(config.supergraphPath, 'utf8'),
    // Routes by the supergraph's routing URLs; a *_URL variable replaces one subgraph's, only when set.
    buildService: ({ name, url }) => buildService({ name, url: route(name, url) }),
  });
}

export async function startGateway(config: GatewayConfig, logger: Logger = createLogger('gateway', config.logLevel)): Promise<RunningServer> {
  const tokens = new Tokens(config.keys);
  const documents = trustedDocuments<GatewayContext>(config.trustedDocuments);
  const cache = responseCache<GatewayContext>(config.responseCache, logger);
  const usage = new UsageRecorder(); // usage by client: metrics and GET /usage (gateway/features/usage.ts)
  const gateway = createGateway(config, logger);
  // Subscriptions (graphql-ws, graphql-sse) on the same /graphql, planned with the same supergraph.
  const subscriptions = gatewaySubscriptions({
    gateway,
    buildService: serviceBuilder(config, logger),
    route: routeOf(config),
    tokens,
    limits: config.limits,
    bounds: config.subscriptions,
    admit: documents.check,
    logger,
    production: config.production,
  });
  const running = await startGraphQLServer<GatewayContext>({
    service: 'gateway',
    source: { gateway, introspection: !config.production },
    port: config.port,
    trustedProxies: config.trustedProxies,
    logger,
    production: config.production,
    limits: config.limits,
    plugins: [documents.plugin, ...cache.plugins, usage.plugin()],
    onClose: cache.close,
    persistedQueries: documents.persistedQueries,
    routes: (app) => app.get('/usage', usage.route(tokens)),
    context: async (req) => {
      // Rejects a forged or expired token here, before any subgraph is called (they check again).
      const viewer = await tokens.fromAuthorization(req.headers.authorization);
      // Trusted documents: a refused operation is not even parsed.
      documents.admit(req, viewer);
      return { authorization: req.headers.authorization, clientAddress: req.ip, requestId: req.requestId, log: req.log };
    },
    // Listening means the supergraph is loaded and the query planner ready.
    ready: async () => {
      if (!subscriptions.ready) throw new Error('the subscription planner has no supergraph yet');
    },
    attach: (server, app) => subscriptions.attach(server, app),
    staticFiles: config.webRoot ? webStatic(config.webRoot) : undefined,
  });
  logger.info({ url: running.url, supergraph: config.introspect ? 'introspect' : config.supergraphPath }, 'gateway ready');
  return running;
}
