// The gateway: serves the composed supergraph, verifies the caller's token, and forwards the
// Authorization header and the request id to every subgraph it calls.
import { readFileSync } from 'node:fs';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { loggingPlugin, formatError, landingPage } from '../lib/apollo.js';
import { Tokens } from '../lib/auth.js';
import type { GatewayConfig } from '../lib/config.js';
import { createApp, createHttpServer, drainPlugin, jsonBody, listen, type RunningServer } from '../lib/http.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { REQUEST_ID_HEADER } from '../lib/request-id.js';
import { isServiceName, SERVICE_NAMES } from '../lib/services.js';
import { depthLimit } from './depth-limit.js';

export interface GatewayContext {
  authorization: string | undefined;
  requestId: string;
  log: Logger;
}

class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (!('requestId' in context)) return; // health checks and introspection have no client context
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
  }
}

/** Node's own fetch with a deadline: a slow subgraph costs its fields, not the whole response. */
const fetchWithTimeout = (timeoutMs: number) =>
  ((url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as unknown as NonNullable<
    ConstructorParameters<typeof RemoteGraphQLDataSource>[0]
  >['fetcher'];

export function createGateway(config: GatewayConfig, logger: Logger) {
  // @apollo/gateway reads only this variable: unless it is set, it reports usage metrics to Apollo
  // and probes cloud metadata servers at start, which a private deployment should not do unasked.
  process.env.APOLLO_TELEMETRY_DISABLED = config.apolloTelemetry ? 'false' : 'true';
  const urls = config.subgraphUrls;
  return new ApolloGateway({
    logger,
    supergraphSdl: config.introspect
      ? new IntrospectAndCompose({ subgraphs: SERVICE_NAMES.map((name) => ({ name, url: urls[name] })), pollIntervalInMs: 5_000 })
      : readFileSync(config.supergraphPath, 'utf8'),
    // The routing URLs in supergraph.graphql are the local defaults; deployments override them.
    buildService: ({ name, url }) =>
      new SubgraphSource({ url: isServiceName(name) ? urls[name] : url, fetcher: fetchWithTimeout(config.subgraphTimeoutMs) }),
  });
}

export async function startGateway(config: GatewayConfig, logger: Logger = createLogger('gateway', config.logLevel)): Promise<RunningServer> {
  const tokens = new Tokens(config.jwtSecret);
  const gateway = createGateway(config, logger);
  const app = createApp(logger, async () => {
    if (!apollo) throw new Error('starting');
  });
  const httpServer = createHttpServer(app);
  const apollo: ApolloServer<GatewayContext> = new ApolloServer<GatewayContext>({
    gateway,
    validationRules: [depthLimit()],
    plugins: [drainPlugin(httpServer), loggingPlugin<GatewayContext>(logger), landingPage(config.production)],
    formatError: formatError(config.production),
    includeStacktraceInErrorResponses: !config.production,
    introspection: !config.production,
  });
  await apollo.start();
  app.use(
    '/graphql',
    jsonBody(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        // Rejects a forged or expired token here, before any subgraph is called (they check again).
        await tokens.fromAuthorization(req.headers.authorization);
        return { authorization: req.headers.authorization, requestId: req.requestId, log: req.log };
      },
    }),
  );
  const running = await listen(httpServer, apollo as unknown as ApolloServer, config.port, async () => {});
  logger.info({ url: running.url, supergraph: config.introspect ? 'introspect' : config.supergraphPath }, 'gateway ready');
  return running;
}
