// The HTTP server every service runs, gateway and subgraphs alike: request ids, health and
// readiness routes, a body limit, Apollo Server with the shared error handling and logging, keep-
// alive settings the gateway can live with, and a graceful stop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { ApolloServerOptionsWithGateway, ApolloServerOptionsWithSchema } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Request, type RequestHandler } from 'express';
import { formatError, landingPage, loggingPlugin } from './apollo.js';
import { mutationsAreNotCached } from './plugins/cache-policy.js';
import { jsonErrors, notFound } from './http-errors.js';
import type { Logger } from '../logger.js';
import { limitParseOptions, limitRules, limitsPlugin, reportTokenLimit, type OperationLimits } from '../security/operation-limits.js';
import { operationGuard } from './plugins/operation-guard.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import { metricsHandler, metricsPlugin, serviceMetrics } from '../telemetry/metrics.js';
import { flushTracing, startTracing, traceRequests, traceRootResolvers, tracingPlugin } from '../telemetry/tracing.js';

/** Larger bodies are refused with 413 before any parsing. */
export const BODY_LIMIT = '1mb';

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, finishes in-flight requests, then releases resources. Idempotent. */
  close(): Promise<void>;
}

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    log: Logger;
  }
}

type Source<C extends BaseContext> =
  | Pick<ApolloServerOptionsWithSchema<C>, 'schema' | 'validationRules' | 'introspection'>
  | Pick<ApolloServerOptionsWithGateway<C>, 'gateway' | 'validationRules' | 'introspection'>;

export interface GraphQLServerOptions<C extends BaseContext> {
  /** gateway, users, catalog...: the `service` label of its metrics, its traces' service.name. */
  service: string;
  /** The schema (a subgraph) or the gateway to serve, with their own validation settings. */
  source: Source<C>;
  port: number;
  /**
   * Proxies (Express `trust proxy` list) whose X-Forwarded-For is believed; `req.ip` is then the
   * client's address as the nearest trusted proxy saw it. Empty: `req.ip` is the peer's address.
   */
  trustedProxies: string[];
  logger: Logger;
  production: boolean;
  /** Refused before execution (and, in the gateway, before planning). */
  limits: OperationLimits;
  plugins?: ApolloServerPlugin<C>[];
  /** Apollo Server's automatic persisted queries (on by default; the gateway's trusted-documents policy decides). */
  persistedQueries?: ApolloServerOptionsWithSchema<C>['persistedQueries'];
  /** Builds the request context; may throw (e.g. UNAUTHENTICATED) to refuse the request. */
  context(req: Request): Promise<C>;
  /** Throws when the service cannot serve (readiness probe). */
  ready(): Promise<void>;
  /** Releases resources after the last in-flight request finished. */
  onClose?(): Promise<void>;
  /** Static files served outside /graphql (the gateway's web shop), before the 404 handler. */
  staticFiles?: RequestHandler;
  /** Adds routes of this service's own (e.g. the gateway's usage report) before /graphql. */
  routes?(app: express.Express): void;
  /**
   * Long-lived transports on the same port (subscriptions: WebSocket upgrades, Server-Sent
   * Events), mounted before /graphql; closed first on stop, so their clients reconnect elsewhere.
   */
  attach?(server: http.Server, app: express.Express): { close(): Promise<void> };
}

export async function startGraphQLServer<C extends BaseContext & { log: Logger }>(options: GraphQLServerOptions<C>): Promise<RunningServer> {
  const { logger, production } = options;
  await startTracing(options.service); // only when the OTEL_* variables ask for it (lib/telemetry/tracing.ts)
  const metrics = serviceMetrics(options.service);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustedProxies);
  app.use((req, res, next) => {
    req.requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    req.log = logger.child({ requestId: req.requestId });
    res.setHeader(REQUEST_ID_HEADER, req.requestId);
    next();
  });
  // Liveness: the process answers. Readiness: it can also reach what it depends on.
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  let closing: Promise<void> | undefined;
  app.get('/ready', async (req, res) => {
    try {
      if (closing) throw new Error('shutting down');
      await options.ready();
      res.json({ status: 'ready' });
    } catch (err) {
      req.log.warn({ err }, 'not ready');
      res.status(503).json({ status: 'unavailable' });
    }
  });

  app.get('/metrics', metricsHandler(metrics));
  options.routes?.(app);

  const server = http.createServer(app);
  // Longer than the gateway's idle-socket timeout, so the gateway never reuses a socket the
  // subgraph has just closed (ECONNRESET, apollographql/federation#2313).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const format = formatError(production);
  const apollo = new ApolloServer<C>({
    ...options.source,
    ...('schema' in options.source && options.source.schema ? { schema: traceRootResolvers(options.source.schema) } : {}),
    validationRules: [...(options.source.validationRules ?? []), ...limitRules(options.limits)],
    parseOptions: limitParseOptions(options.limits),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      loggingPlugin<C>(logger),
      operationGuard<C>(),
      landingPage(production),
      limitsPlugin<C>(options.limits),
      mutationsAreNotCached<C>(),
      metricsPlugin<C>(metrics),
      ...[tracingPlugin<C>()].filter((p) => p !== undefined),
      ...(options.plugins ?? []),
    ],
    ...(options.persistedQueries !== undefined ? { persistedQueries: options.persistedQueries } : {}),
    formatError: (formatted) => format(reportTokenLimit(formatted)),
    includeStacktraceInErrorResponses: !production,
  } as ApolloServerOptionsWithSchema<C>);
  await apollo.start();
  const attached = options.attach?.(server, app);
  app.use('/graphql', ...traceRequests(options.service), express.json({ limit: BODY_LIMIT }), expressMiddleware(apollo, { context: ({ req }) => options.context(req) }));
  if (options.staticFiles) app.use(options.staticFiles);
  app.use(notFound, jsonErrors(BODY_LIMIT));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://localhost:${port}/graphql`,
    // Idempotent: a signal handler and a test teardown may both ask.
    close: () =>
      (closing ??= (async () => {
        await attached?.close();
        await apollo.stop(); // the drain plugin stops accepting, then waits for in-flight requests
        await options.onClose?.();
        await flushTracing();
      })()),
  };
}
