// The HTTP server every service runs, gateway and subgraphs alike: request ids, health and
// readiness routes, a body limit, Apollo Server with the shared error handling and logging, keep-
// alive settings the gateway can live with, and a graceful stop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { ApolloServerOptionsWithGateway, ApolloServerOptionsWithSchema } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Request } from 'express';
import { formatError, landingPage, loggingPlugin } from './apollo.js';
import { jsonErrors, notFound } from './http-errors.js';
import type { Logger } from './logger.js';
import { limitParseOptions, limitRules, limitsPlugin, reportTokenLimit, type OperationLimits } from './operation-limits.js';
import { operationGuard } from './operation-guard.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';

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
  /** Builds the request context; may throw (e.g. UNAUTHENTICATED) to refuse the request. */
  context(req: Request): Promise<C>;
  /** Throws when the service cannot serve (readiness probe). */
  ready(): Promise<void>;
  /** Releases resources after the last in-flight request finished. */
  onClose?(): Promise<void>;
  /**
   * Long-lived transports on the same port (subscriptions: WebSocket upgrades, Server-Sent
   * Events), mounted before /graphql; closed first on stop, so their clients reconnect elsewhere.
   */
  attach?(server: http.Server, app: express.Express): { close(): Promise<void> };
}

export async function startGraphQLServer<C extends BaseContext & { log: Logger }>(options: GraphQLServerOptions<C>): Promise<RunningServer> {
  const { logger, production } = options;
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

  const server = http.createServer(app);
  // Longer than the gateway's idle-socket timeout, so the gateway never reuses a socket the
  // subgraph has just closed (ECONNRESET, apollographql/federation#2313).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const format = formatError(production);
  const apollo = new ApolloServer<C>({
    ...options.source,
    validationRules: [...(options.source.validationRules ?? []), ...limitRules(options.limits)],
    parseOptions: limitParseOptions(options.limits),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      loggingPlugin<C>(logger),
      operationGuard<C>(),
      landingPage(production),
      limitsPlugin<C>(options.limits),
      ...(options.plugins ?? []),
    ],
    formatError: (formatted) => format(reportTokenLimit(formatted)),
    includeStacktraceInErrorResponses: !production,
  } as ApolloServerOptionsWithSchema<C>);
  await apollo.start();
  const attached = options.attach?.(server, app);
  app.use('/graphql', express.json({ limit: BODY_LIMIT }), expressMiddleware(apollo, { context: ({ req }) => options.context(req) }));
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
      })()),
  };
}
