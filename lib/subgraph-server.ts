// Server bootstrap for every subgraph: the four differ only in their schema, resolvers and the
// per-request loaders they add to the context.
import { readFileSync } from 'node:fs';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { parse } from 'graphql';
import type { Tokens, Viewer } from './auth.js';
import { startGraphQLServer, type RunningServer } from './graphql-server.js';
import type { Logger } from './logger.js';
import { subgraphSchemaPath } from './paths.js';
import type { ServiceName } from './services.js';

/** What every subgraph's context has; each subgraph adds its loaders. */
export interface BaseContext {
  viewer: Viewer | null;
  requestId: string;
  log: Logger;
  /** The caller's Authorization header, for calls this subgraph makes to another service. */
  authorization: string | undefined;
}

export interface SubgraphDefinition<C extends BaseContext> {
  name: ServiceName;
  /** The resolver map, typed by the subgraph from its schema (generated types). */
  resolvers: object;
  /** Adds the request-scoped parts (DataLoaders) to the base context. */
  context(base: BaseContext): C;
}

export interface SubgraphRuntime {
  port: number;
  tokens: Tokens;
  logger: Logger;
  production: boolean;
  /** Resolves when the subgraph can serve (its database answers). */
  ready(): Promise<void>;
  /** Releases what the subgraph holds (database connections), after the last request finished. */
  close(): Promise<void>;
}

export const loadTypeDefs = (name: ServiceName) => parse(readFileSync(subgraphSchemaPath(name), 'utf8'));

export async function startSubgraphServer<C extends BaseContext>(
  definition: SubgraphDefinition<C>,
  runtime: SubgraphRuntime,
): Promise<RunningServer> {
  const running = await startGraphQLServer<C>({
    source: { schema: buildSubgraphSchema({ typeDefs: loadTypeDefs(definition.name), resolvers: definition.resolvers as GraphQLResolverMap<unknown> }) },
    port: runtime.port,
    logger: runtime.logger,
    production: runtime.production,
    // Inline tracing (ftv1) costs time on every request and nothing here reads it.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    context: async (req) => {
      // A subgraph verifies the token itself: a request that reached it some other way than
      // through the gateway gets no more than the token allows.
      const authorization = req.headers.authorization;
      const viewer = await runtime.tokens.fromAuthorization(authorization);
      return definition.context({ viewer, requestId: req.requestId, log: req.log, authorization });
    },
    ready: runtime.ready,
    onClose: runtime.close,
  });
  runtime.logger.info({ url: running.url }, `${definition.name} subgraph ready`);
  return running;
}
