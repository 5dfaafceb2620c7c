// Subscriptions at a subgraph: the graphql-ws protocol on the subgraph's own /graphql, for the
// gateway (which subscribes here for its clients) and for nothing else in a deployment. The token
// travels in `connection_init`, verified as a request's Authorization header would be, with the
// same operation limits as any request to this subgraph. A subscribe message whose `extensions`
// carry `lastEventId` (null: from now; a resume point it sent: resume there) asks for a resumable stream:
// its first message carries only `extensions.lastEventId`, each event `extensions.eventIds` (the
// outbox events it stands for) and `extensions.lastEventId` (where to resume after it), and a
// resume point the outbox no longer holds is said first with one EVENTS_MISSED error.
import type http from 'node:http';
import { createSourceEventStream, execute, GraphQLError, specifiedRules, validate, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Viewer } from '../security/auth.js';
import { badUserInput, ErrorCode } from '../errors.js';
import { isDatabaseUnavailable } from '../data/outage.js';
import type { Logger } from '../logger.js';
import { limitRules, type OperationLimits } from '../security/operation-limits.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../server/request-id.js';
import { RESUME_POINT, type EventStream } from './events.js';

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
  /** `resumeAfter`: the event id a resumed subscription had last (lib/subgraph/events.ts SubscribeOptions). */
  context(viewer: Viewer | null, requestId: string, log: Logger, resumeAfter: string | undefined): C;
}

/** What a subscribe message's `extensions` ask: a resumable stream, from now (null) or after an event id. */
function resumeOf(extensions: Readonly<Record<string, unknown>> | null | undefined): { resumable: boolean; after?: string } | GraphQLError {
  if (!extensions || !('lastEventId' in extensions)) return { resumable: false };
  const after = extensions.lastEventId;
  if (after === null) return { resumable: true };
  if (typeof after !== 'string' || !RESUME_POINT.test(after)) return badUserInput('"extensions.lastEventId" must be null or a resume point this service sent ("<history>.<event id>")');
  return { resumable: true, after };
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
      // A bad resume point is refused before anything is subscribed to.
      onSubscribe: (_ctx, _id, payload) => {
        const resume = resumeOf(payload.extensions);
        return resume instanceof GraphQLError ? [resume] : undefined;
      },
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
      context: (ctx, _id, payload) => {
        const resume = resumeOf(payload.extensions) as { resumable: boolean; after?: string }; // checked in onSubscribe
        return { ...options.context(ctx.extra.viewer ?? null, ctx.extra.requestId!, ctx.extra.log!, resume.after), resumable: resume.resumable };
      },
      // graphql-js would resolve every event with the subscription's one context, so a DataLoader
      // would answer an event with what an earlier one read (an order's items before it was
      // confirmed). Each event is resolved like a request of its own, with a fresh context.
      subscribe: async (args) => {
        const ctx = args.contextValue as { viewer: Viewer | null; requestId: string; log: Logger; resumable: boolean };
        const fresh = () => options.context(ctx.viewer, ctx.requestId, ctx.log, undefined);
        return eventsOf(args, fresh, ctx.resumable);
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

/** Seconds an event waits, read again each second, for its database to come back before its error is sent. */
const MAX_OUTAGE_RETRIES = 60;

/** A stream of the event channel (lib/subgraph/events.ts), which knows its place in the outbox's history. */
const isEventStream = (source: AsyncIterator<unknown>): source is EventStream => 'position' in source && 'lastEventIds' in source;

/**
 * The source stream of a subscription, each event executed with a context of its own; when
 * `resumable`, tagged with its outbox event ids and preceded by where the stream starts.
 */
async function eventsOf(args: ExecutionArgs, fresh: () => object, resumable: boolean): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const events = source[Symbol.asyncIterator]();
  const tagged = resumable && isEventStream(events) ? events : undefined;
  let started = tagged === undefined;
  const results: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => results,
    async next() {
      if (!started && tagged) {
        started = true;
        const extensions = { lastEventId: tagged.position ?? null };
        if (!tagged.gap) return { done: false, value: { extensions } };
        const missed = new GraphQLError('events since the last one received may be missing (older than the event history keeps): read the current state again', {
          extensions: { code: ErrorCode.EVENTS_MISSED },
        });
        return { done: false, value: { errors: [missed], extensions } };
      }
      const event = await events.next();
      if (event.done) return { done: true, value: undefined };
      let result = await execute({ ...args, rootValue: event.value, contextValue: fresh() });
      // The database is away (a restart, an outage): read the event again once it is back rather
      // than send an error in its place, which would lose the change for this subscriber.
      for (let attempt = 0; attempt < MAX_OUTAGE_RETRIES && result.errors?.some((e) => isDatabaseUnavailable(e.originalError)); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        result = await execute({ ...args, rootValue: event.value, contextValue: fresh() });
      }
      if (!tagged) return { done: false, value: result };
      return { done: false, value: { ...result, extensions: { ...result.extensions, eventIds: tagged.lastEventIds, lastEventId: tagged.position ?? null } } };
    },
    async return() {
      await events.return?.();
      return { done: true, value: undefined };
    },
  };
  return results;
}
