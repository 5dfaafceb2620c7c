// Subscriptions at a subgraph: the graphql-ws protocol on the subgraph's own /graphql, for the
// gateway (which subscribes here for its clients) and for nothing else in a deployment. The token
// travels in `connection_init`, verified as a request's Authorization header would be, with the
// same operation limits as any request to this subgraph.
import type http from 'node:http';
import { createSourceEventStream, execute, GraphQLError, specifiedRules, validate, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Viewer } from '../security/auth.js';
import type { Logger } from '../logger.js';
import { limitRules, type OperationLimits } from '../security/operation-limits.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../server/request-id.js';

/** `Authorization` from a `connection_init` payload: `authorization` or `Authorization`, as clients differ. */
export function authorizationOf(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The request id a `connection_init` payload carries (the gateway sends its own), or a new one. */
export function requestIdOf(params: Readonly<Record<string, unknown>> | undefined): string {
  const value = params?.[REQUEST_ID_HEADER];
  return requestIdFrom(typeof value === 'string' ? value : undefined);
}

/** The close code for a token that does not verify; graphql-ws clients do not retry on it. */
export const closeCodeFor = (err: unknown) =>
  err instanceof GraphQLError && err.extensions.code === 'FORBIDDEN' ? CloseCode.Forbidden : CloseCode.Unauthorized;

export interface SubgraphSubscriptionOptions<C> {
  server: http.Server;
  schema: GraphQLSchema;
  limits: OperationLimits;
  logger: Logger;
  viewerOf(authorization: string | undefined): Promise<Viewer | null>;
  context(viewer: Viewer | null, requestId: string, log: Logger): C;
}

export function serveSubgraphSubscriptions<C extends object>(options: SubgraphSubscriptionOptions<C>): { close(): Promise<void> } {
  const { logger } = options;
  const wss = new WebSocketServer({ server: options.server, path: '/graphql' });
  const rules = [...specifiedRules, ...limitRules(options.limits)];
  type Extra = {
    viewer?: Viewer | null;
    log?: Logger;
    requestId?: string;
  };
  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      schema: options.schema,
      // The gateway opens one connection per client connection; a burst of them must not time out.
      connectionInitWaitTimeout: 10_000,
      validate: (schema, document) => validate(schema, document, rules),
      onConnect: async (ctx) => {
        const requestId = requestIdOf(ctx.connectionParams);
        ctx.extra.requestId = requestId;
        ctx.extra.log = logger.child({ requestId });
        try {
          ctx.extra.viewer = await options.viewerOf(authorizationOf(ctx.connectionParams));
          return true;
        } catch (err) {
          ctx.extra.socket.close(closeCodeFor(err), (err as Error).message);
          return false;
        }
      },
      context: (ctx) => options.context(ctx.extra.viewer ?? null, ctx.extra.requestId!, ctx.extra.log!),
      // graphql-js would resolve every event with the subscription's one context, so a DataLoader
      // would answer an event with what an earlier one read (an order's items before it was
      // confirmed). Each event is resolved like a request of its own, with a fresh context.
      subscribe: async (args) => {
        const ctx = args.contextValue as { viewer: Viewer | null; requestId: string; log: Logger };
        const fresh = () => options.context(ctx.viewer, ctx.requestId, ctx.log);
        return eventsOf(args, fresh);
      },
    },
    wss,
  );
  return {
    close: async () => {
      // 1012: the gateway re-subscribes (to this replica's successor) rather than giving up.
      for (const socket of wss.clients) socket.close(1012, 'service restart');
      await disposable.dispose();
    },
  };
}

/** The source stream of a subscription, each event executed with a context of its own. */
async function eventsOf(args: ExecutionArgs, fresh: () => object): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const events = source[Symbol.asyncIterator]();
  const results: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => results,
    async next() {
      const event = await events.next();
      if (event.done) return { done: true, value: undefined };
      return { done: false, value: await execute({ ...args, rootValue: event.value, contextValue: fresh() }) };
    },
    async return() {
      await events.return?.();
      return { done: true, value: undefined };
    },
  };
  return results;
}
