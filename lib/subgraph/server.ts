// Starts a subgraph: opens (migrates, seeds) its database and serves its schema. The four differ
// only in their schema, resolvers, per-request loaders and seed; the same path runs under
// `npm start`, alone (`npm run start:<name>`), in tests and in containers.
import { readFileSync } from 'node:fs';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { parse } from 'graphql';
import { Tokens, type Viewer } from '../security/auth.js';
import type { SubgraphConfig } from '../config.js';
import { openDatabase, type ClientFactory, type Database, type PrismaLike } from '../data/database.js';
import { databaseOutage } from '../data/outage.js';
import { startGraphQLServer, type RunningServer } from '../server/graphql-server.js';
import { guardArguments } from '../security/input-guard.js';
import { createLogger, type Logger } from '../logger.js';
import { subgraphLimits } from '../security/operation-limits.js';
import { subgraphSchemaPath } from '../paths.js';
import { serveSubgraphSubscriptions } from './subscriptions.js';
import type { EventChannel } from './events.js';
import type { ServiceName } from '../services.js';

/** What every subgraph's context has; each subgraph adds its loaders. */
export interface BaseContext {
  viewer: Viewer | null;
  /**
   * The client's IP address: the one the gateway (a trusted proxy) forwarded, else the peer's.
   * Read when asked: parsing the forwarded chain on every request cost more than the few fields that need it.
   */
  clientAddress(): string | undefined;
  requestId: string;
  log: Logger;
  /** A subscription resumed after this event id (lib/subgraph/subscriptions.ts); undefined otherwise. */
  resumeAfter?: string | undefined;
}

export interface SubgraphDefinition<C extends BaseContext> {
  name: ServiceName;
  /** The resolver map, typed by the subgraph from its schema (generated types). */
  resolvers: object;
  /** Adds the request-scoped parts (DataLoaders) to the base context. */
  context(base: BaseContext): C;
  /** Stops background work (e.g. recovery) before the database closes. */
  close?(): Promise<void>;
}

export interface SubgraphModule<D extends PrismaLike, C extends BaseContext> {
  createClient: ClientFactory<D>;
  /** Inserts the demo data when the database is empty; a no-op otherwise. */
  seed(db: D, scale: number, log: Logger): Promise<void>;
  /** Its database has an outbox table: its change events are written there and published from there (lib/subgraph/outbox.ts). */
  outbox?: boolean;
  define(db: D, runtime: { config: SubgraphConfig; tokens: Tokens; logger: Logger; events: EventChannel; outbox: Database<D>['outbox'] }): SubgraphDefinition<C>;
}

export interface RunningSubgraph<D> extends RunningServer {
  db: Database<D>;
}

export async function startSubgraph<D extends PrismaLike, C extends BaseContext>(
  module: SubgraphModule<D, C>,
  config: SubgraphConfig,
  logger: Logger = createLogger(config.name, config.logLevel),
): Promise<RunningSubgraph<D>> {
  const db = await openDatabase(
    { name: config.name, url: config.databaseUrl, dataDir: config.dataDir, redis: config.redis, outbox: module.outbox === true, logger },
    module.createClient,
  );
  let definition: SubgraphDefinition<C> | undefined;
  const release = async () => {
    await definition?.close?.();
    await db.close();
  };
  try {
    if (config.seed) await module.seed(db.client, config.seedScale, logger);
    const tokens = new Tokens(config.keys);
    const subgraph = module.define(db.client, { config, tokens, logger, events: db.events, outbox: db.outbox });
    definition = subgraph;
    const typeDefs = parse(readFileSync(subgraphSchemaPath(config.name), 'utf8'));
    // Every argument is checked before its resolver runs (ids, text), whichever field it is.
    const schema = guardArguments(buildSubgraphSchema({ typeDefs, resolvers: subgraph.resolvers as GraphQLResolverMap<unknown> }));
    const limits = subgraphLimits(config.limits);
    const server = await startGraphQLServer<C>({
      service: config.name,
      source: { schema },
      port: config.port,
      trustedProxies: config.trustedProxies,
      logger,
      production: config.production,
      // Looser than the gateway's by what the query planner adds, so every fetch it plans passes.
      limits,
      direct: true,
      context: async (req) => {
        // A subgraph verifies the token itself: a request that reached it some other way than
        // through the gateway gets no more than the token allows.
        const viewer = await tokens.fromAuthorization(req.headers.authorization);
        return subgraph.context({ viewer, clientAddress: () => req.ip, requestId: req.requestId, log: req.log });
      },
      extensions: [
        // Inline tracing (ftv1) costs time on every request and nothing here reads it.
        { plugins: [ApolloServerPluginInlineTraceDisabled()] },
        // Ready while the database answers; released after the last request. While it cannot be
        // reached, requests are answered SERVICE_UNAVAILABLE (lib/data/outage.ts).
        { ready: db.ping, close: release },
        databaseOutage<C>(),
        // Subscriptions (graphql-ws) on the same /graphql, for the gateway.
        {
          attach: (httpServer) =>
            serveSubgraphSubscriptions<C>({
              server: httpServer,
              schema,
              limits,
              logger,
              viewerOf: (authorization) => tokens.fromAuthorization(authorization),
              context: (viewer, requestId, log, resumeAfter) => subgraph.context({ viewer, clientAddress: () => undefined, requestId, log, resumeAfter }),
            }),
        },
      ],
    });
    logger.info({ url: server.url }, `${config.name} subgraph ready`);
    return { ...server, db };
  } catch (err) {
    await release();
    throw err;
  }
}
