// The one shape of a gateway feature (the supergraph, trusted documents, batched requests, the response
// cache, usage, subscriptions, metrics, the web shop, deduplication): each is a `useX(options)` returning the hooks it needs,
// and gateway/server.ts assembles them from one list, as Hive Gateway's createGatewayRuntime does
// its plugins. The server-side hooks are those every service has (lib/server/extension.ts); the
// rest are the gateway's own.
import type { SupergraphManager } from '@apollo/gateway';
import type { QueryPlanCache } from '@apollo/query-planner';
import type { Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Viewer } from '../lib/security/auth.js';
import type { ServerExtension } from '../lib/server/extension.js';
import type { GatewayContext } from './context.js';
import type { SubgraphCall, SubgraphClient } from './subgraph-client/types.js';

/** A supergraph the gateway has just loaded, and how it calls the subgraphs in it. */
export interface SupergraphLoaded {
  coreSupergraphSdl: string;
  /** The public schema clients validate against. */
  apiSchema: GraphQLSchema;
  subgraphs: SubgraphClient;
}

/**
 * A gateway feature. Every member is optional: a feature brings only the hooks it needs, and a
 * feature that is turned off by its configuration brings none.
 * From ServerExtension: `plugins` (Apollo Server plugins, in list order), `persistedQueries`, `batchedRequests`,
 * `routes(app)`, `attach(server, app)` (returns something closable), `staticFiles`, `ready()`, `close()`.
 */
export interface GatewayFeature extends ServerExtension<GatewayContext> {
  /**
   * Decides, while the request context is built and before Apollo Server parses anything, whether
   * the request's operation may run: throws the refusal (a GraphQLError with its HTTP status).
   * `viewer` is the caller as the token says (already verified). For a batched request `req.body`
   * is the array of operations, checked as a whole before any of them runs (gateway/features/batching.ts).
   */
  admit?(req: Request, viewer: Viewer | null): void;
  /**
   * Wraps the HTTP call of one subgraph data source (e.g. to share identical queries in flight);
   * called once per data source. Wrappers nest in list order, the first feature's outermost.
   */
  subgraphCall?(next: SubgraphCall): SubgraphCall;
  /** The cache Apollo Gateway keeps query plans in; at most one feature gives one (else the gateway's default). */
  queryPlanCache?: QueryPlanCache;
  /**
   * Where Apollo Gateway gets its supergraph and its updates from (gateway/features/supergraph.ts:
   * the file, reloaded in place); at most one feature gives one (else the gateway composes by introspection).
   */
  supergraphManager?: SupergraphManager;
  /** Called with every supergraph the gateway loads: the file at start, each reload or new composition after. */
  onSupergraph?(supergraph: SupergraphLoaded): void;
}
