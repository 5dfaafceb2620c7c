// The one way to add to the server every service runs (lib/server/graphql-server.ts): a server
// extension brings any of these parts, and the server mounts each in its place. The gateway's
// features (gateway/feature.ts) and a subgraph's database and subscriptions are extensions.
import type http from 'node:http';
import type { ApolloServerOptions, ApolloServerPlugin, BaseContext } from '@apollo/server';
import type express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import type { RequestHandler } from 'express';

/** Something that holds connections or timers until it is closed. */
export interface Closable {
  close(): Promise<void>;
}

export interface ServerExtension<C extends BaseContext> {
  /** Apollo Server plugins, run after the shared ones (logging, limits, metrics...), in list order. */
  plugins?: ApolloServerPlugin<C>[];
  /** Apollo Server's automatic persisted queries setting (on by default); at most one extension sets it. */
  persistedQueries?: ApolloServerOptions<C>['persistedQueries'];
  /**
   * True: Apollo Server answers a JSON array of operations in one POST (its `allowBatchedHttpRequests`).
   * Off unless an extension asks, so a service that brings no batch checks of its own (every
   * subgraph) keeps refusing batches with HTTP 400.
   */
  batchedRequests?: boolean;
  /** Adds routes of its own (e.g. the gateway's GET /usage), mounted after /health, /ready and /metrics, before /graphql. */
  routes?(app: express.Express): void;
  /**
   * Long-lived transports on the same port (subscriptions: WebSocket upgrades, Server-Sent
   * Events), mounted before /graphql; closed first on stop, so their clients reconnect elsewhere.
   */
  attach?(server: http.Server, app: express.Express): Closable;
  /** Static files served outside /graphql (the gateway's web shop), after it and before the 404 handler. */
  staticFiles?: RequestHandler;
  /**
   * An error this extension knows the meaning of (e.g. the database cannot be reached), answered
   * as the error it returns instead; undefined leaves the error as it is. The first that answers wins.
   */
  translateError?(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError | undefined;
  /** Throws when the service cannot serve yet (readiness probe, GET /ready). */
  ready?(): Promise<void>;
  /**
   * Fields added to the body of a successful GET /ready (e.g. the gateway's `supergraph`: which
   * schema this replica serves), merged in list order; never `status`.
   */
  readyInfo?(): Record<string, unknown>;
  /** Releases resources after the last in-flight request finished. */
  close?(): Promise<void>;
}
