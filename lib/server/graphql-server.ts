// The HTTP server every service runs, gateway and subgraphs alike: request ids, health and
// readiness routes, a body limit, Apollo Server with the shared error handling and logging, keep-
// alive settings the gateway can live with, and a graceful stop. What differs between services
// comes in as server extensions (lib/server/extension.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type BaseContext } from '@apollo/server';
import type { ApolloServerOptionsWithGateway, ApolloServerOptionsWithSchema } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Request } from 'express';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Closable, ServerExtension } from './extension.js';
import { formatError } from './format-error.js';
import { jsonErrors, notFound } from './http-errors.js';
import type { Logger } from '../logger.js';
import { limitParseOptions, limitRules, reportTokenLimit, type OperationLimits } from '../security/operation-limits.js';
import { cachePolicyPlugin } from './plugins/cache-policy.js';
import { landingPagePlugin } from './plugins/landing-page.js';
import { limitsPlugin } from './plugins/limits.js';
import { loggingPlugin } from './plugins/logging.js';
import { metricsPlugin } from './plugins/metrics.js';
import { operationGuardPlugin } from './plugins/operation-guard.js';
import { tracingPlugin } from './plugins/tracing.js';
import { unavailablePlugin } from './plugins/unavailable.js';
import { identify } from './request-id.js';
import { directGraphQL, type ServedRequest } from './direct-graphql.js';
import { metricsHandler, serviceMetrics } from '../telemetry/metrics.js';
import { flushTracing, startTracing, traceRequests, traceRootResolvers, tracingEnabled } from '../telemetry/tracing.js';

/** Larger bodies are refused with 413 before any parsing. */
export const BODY_LIMIT = '1mb';
const BODY_LIMIT_BYTES = 1024 * 1024; // BODY_LIMIT as Express counts it

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

/**
 * How the request context is built; it may throw (e.g. UNAUTHENTICATED) to refuse the request.
 * `direct`: POST /graphql is served from node:http without Express (lib/server/direct-graphql.ts),
 * for a service whose extensions add nothing to /graphql's Express chain (a subgraph; the gateway
 * reads Express's request in its features). With tracing on, every request takes Express's path,
 * where its server spans start.
 */
type ContextOptions<C> = { direct?: false; context(req: Request): Promise<C> } | { direct: true; context(req: ServedRequest): Promise<C> };

export type GraphQLServerOptions<C extends BaseContext> = CommonOptions<C> & ContextOptions<C>;

interface CommonOptions<C extends BaseContext> {
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
  /** What this service adds to the shared server (plugins, routes, transports, readiness, resources), in order. */
  extensions?: ServerExtension<C>[];
}

export async function startGraphQLServer<C extends BaseContext & { log: Logger }>(options: GraphQLServerOptions<C>): Promise<RunningServer> {
  const { logger, production } = options;
  const extensions = options.extensions ?? [];
  const persistedQueries = extensions.filter((e) => e.persistedQueries !== undefined).map((e) => e.persistedQueries);
  if (persistedQueries.length > 1) throw new Error('more than one server extension sets persistedQueries');
  await startTracing(options.service); // only when the OTEL_* variables ask for it (lib/telemetry/tracing.ts)
  const metrics = serviceMetrics(options.service);
  const app = express();
  app.disable('x-powered-by');
  // No ETag on answers: nothing revalidates a GraphQL answer by it, and hashing every body costs
  // CPU on each request (the web shop's static files keep theirs: express.static makes its own).
  app.set('etag', false);
  app.set('trust proxy', options.trustedProxies);
  app.use((req, res, next) => {
    Object.assign(req, identify(req.headers, res, logger));
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
      for (const extension of extensions) await extension.ready?.();
      const info = Object.assign({}, ...extensions.map((e) => e.readyInfo?.() ?? {})) as Record<string, unknown>;
      res.json({ ...info, status: 'ready' });
    } catch (err) {
      req.log.warn({ err }, 'not ready');
      res.status(503).json({ status: 'unavailable' });
    }
  });

  app.get('/metrics', metricsHandler(metrics));
  for (const extension of extensions) extension.routes?.(app);

  let direct: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;
  const server = http.createServer((req, res) => {
    if (!direct?.(req, res)) app(req, res);
  });
  // Longer than the gateway's idle-socket timeout, so the gateway never reuses a socket the
  // subgraph has just closed (ECONNRESET, apollographql/federation#2313).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  /** What an extension answers an error as, if one knows its meaning (lib/server/extension.ts). */
  const translate = (formatted: GraphQLFormattedError, error: unknown) =>
    extensions.reduce<GraphQLFormattedError | undefined>((found, e) => found ?? e.translateError?.(formatted, error), undefined);
  const codeOf = (error: GraphQLError) => String((translate(error.toJSON(), error) ?? error).extensions?.code ?? '');
  const format = formatError(production);
  const apollo = new ApolloServer<C>({
    ...options.source,
    ...('schema' in options.source && options.source.schema ? { schema: traceRootResolvers(options.source.schema) } : {}),
    validationRules: [...(options.source.validationRules ?? []), ...limitRules(options.limits)],
    parseOptions: limitParseOptions(options.limits),
    // lib/server/main.ts stops the server on SIGINT/SIGTERM (drain, then the extensions and the
    // database). Apollo Server's own handlers (on outside NODE_ENV=test) would stop it first, and
    // its stop() leaves a second caller waiting for ever: the database was never closed and the
    // process ended by the hard stop, with code 1, 10 s later.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      loggingPlugin<C>(logger, codeOf),
      operationGuardPlugin<C>(),
      landingPagePlugin(production),
      limitsPlugin<C>(options.limits),
      cachePolicyPlugin<C>(),
      unavailablePlugin<C>(),
      metricsPlugin<C>(metrics, codeOf),
      ...[tracingPlugin<C>()].filter((p) => p !== undefined),
      ...extensions.flatMap((e) => e.plugins ?? []),
    ],
    ...(persistedQueries.length > 0 ? { persistedQueries: persistedQueries[0] } : {}),
    allowBatchedHttpRequests: extensions.some((e) => e.batchedRequests === true),
    formatError: (formatted, error) => {
      return format(reportTokenLimit(translate(formatted, error) ?? formatted));
    },
    includeStacktraceInErrorResponses: !production,
  } as ApolloServerOptionsWithSchema<C>);
  await apollo.start();
  const attached = extensions.flatMap((e): Closable[] => (e.attach ? [e.attach(server, app)] : []));
  app.use('/graphql', ...traceRequests(options.service), express.json({ limit: BODY_LIMIT }), expressMiddleware(apollo, { context: ({ req }) => options.context(req) }));
  if (options.direct && !tracingEnabled()) {
    direct = directGraphQL({ apollo, logger, trustedProxies: options.trustedProxies, bodyLimit: { text: BODY_LIMIT, bytes: BODY_LIMIT_BYTES }, context: options.context });
  }
  for (const extension of extensions) if (extension.staticFiles) app.use(extension.staticFiles);
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
        await Promise.all(attached.map((a) => a.close()));
        await apollo.stop(); // the drain plugin stops accepting, then waits for in-flight requests
        for (const extension of extensions) await extension.close?.();
        await flushTracing();
      })()),
  };
}
