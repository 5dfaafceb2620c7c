// Federated subscriptions, whatever the transport (graphql-ws or graphql-sse): the operation is
// checked like a query (validation, the operation limits, cost), planned, subscribed to at the
// owning subgraph, and every event completed through the query plan (plan.ts). When the gateway
// loads a new supergraph, every open stream is planned again (reloaded()): the subscription at the
// subgraph stays open and the next event is completed with the new plan, or the stream ends with
// one SUBSCRIPTION_INVALIDATED_BY_SCHEMA_CHANGE error if the operation is no longer valid.
import { GraphQLError, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import type { Viewer } from '../../lib/security/auth.js';
import type { SubscriptionBounds } from '../../lib/config.js';
import { ErrorCode, internalError, unauthorizedField, operationRefused, serviceUnavailable, subscriptionInvalidated, tooManyRequests } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { checkOperation, exceededLimit, type OperationLimits } from '../../lib/security/operation-limits.js';
import { gatewayMetrics } from '../metrics.js';
import type { GatewayContext } from '../context.js';
import { operationIn, type OperationSent } from '../features/trusted-documents.js';
import { primaryVariables, samePrimary, type SubscriptionPlan, type SubscriptionPlanner } from './plan.js';
import { Broadcast, type Source } from './broadcast.js';
import { UpstreamPool } from './upstream.js';
import { remember } from '../../lib/subgraph/events.js';

/** Subscriptions open in this process, over every transport, and the shared streams serving them. */
const { subscriptionsActive: active, subscriptionStreamsActive: streams } = gatewayMetrics();
/**
 * Events a subscriber may fall behind its stream. The transports take each event as it comes (the
 * bytes then wait in the socket, bounded by maxBufferedBytes), so this is a second line only.
 */
const MAX_QUEUED_EVENTS = 1_000;

/** One client connection (a WebSocket, or one SSE request): who it is, and how many subscriptions it holds. */
export interface Session {
  viewer: Viewer | null;
  authorization: string | undefined;
  clientAddress: string | undefined;
  requestId: string;
  log: Logger;
  /** Subscriptions open on this session. */
  active: number;
}

export interface PreparedOperation {
  document: DocumentNode;
  source: string;
  operationName: string | undefined;
  variables: Record<string, unknown>;
}

const refused = (message: string, code: string = ErrorCode.BAD_USER_INPUT) => new GraphQLError(message, { extensions: { code } });

/** The trusted-documents policy (gateway/features/trusted-documents.ts): the text to run, or a refusal thrown. */
export type AdmitOperation = (sent: OperationSent) => string | undefined;

/**
 * The access rules (gateway/features/authorization.ts): the paths of the fields the viewer may not
 * read. A subscription selecting any is refused whole, with an access error (reason UNAUTHORIZED_FIELD_OR_TYPE) at
 * each path: nothing is subscribed to at a subgraph.
 */
export type AuthorizeOperation = (document: DocumentNode, operation: OperationDefinitionNode, viewer: Viewer | null) => readonly (readonly string[])[];

/** One shared stream: its operation, and the plan each next event is completed with. */
interface Stream {
  broadcast: Broadcast<ExecutionResult>;
  op: PreparedOperation;
  log: Logger;
  /** Set once planned; replaced when a new supergraph plans the same subscription at the subgraph differently only in completion. */
  plan?: SubscriptionPlan;
  /** A new plan whose subscription at the subgraph differs: the stream subscribes again with it. */
  pending?: SubscriptionPlan;
  /** Ends the current subscription at the subgraph, so that the stream subscribes again (with `pending` if set). */
  interrupt?: () => void;
  /** Where the stream is subscribed now: a new supergraph may route its subgraph elsewhere. */
  url?: string;
}

/** The key plans are cached by. */
const planKey = (op: PreparedOperation) => `${op.operationName ?? ''}\n${op.source}`;

/** A subscription request as a transport received it, and who sent it. */
export interface SubscriptionRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
  viewer: Viewer | null;
  /** The x-operations-key header of the connection, if sent. */
  operationsKey: string | undefined;
}

export class FederatedSubscriptions {
  readonly #planner: SubscriptionPlanner;
  readonly #limits: OperationLimits;
  readonly #trusted: AdmitOperation | undefined;
  readonly #authorize: AuthorizeOperation | undefined;
  readonly bounds: SubscriptionBounds;
  readonly #perUser = new Map<string, number>();
  /** The running streams, by operation, variables and token. */
  readonly #streams = new Map<string, Stream>();
  readonly #upstreams = new UpstreamPool();

  constructor(planner: SubscriptionPlanner, limits: OperationLimits, bounds: SubscriptionBounds, admit?: AdmitOperation, authorize?: AuthorizeOperation) {
    this.#planner = planner;
    this.#authorize = authorize;
    this.#limits = limits;
    this.bounds = bounds;
    this.#trusted = admit;
  }

  get ready(): boolean {
    return this.#planner.ready;
  }

  /** The public schema; undefined until the supergraph is loaded. */
  get schema() {
    return this.#planner.schema;
  }

  /** Parses and checks an operation as the gateway checks a query; the errors a client sees otherwise. */
  prepare(request: SubscriptionRequest): PreparedOperation | GraphQLError[] {
    const { operationName, variables } = request;
    const schema = this.#planner.schema;
    if (!schema) return [serviceUnavailable('the gateway is starting; subscribe again shortly')];
    // Trusted documents apply as they do to queries: a manifest id runs the manifest's text.
    let source = request.query;
    if (this.#trusted) {
      try {
        source = this.#trusted({ ...operationIn(request), viewer: request.viewer, operationsKey: request.operationsKey });
      } catch (err) {
        if (err instanceof GraphQLError) return [err];
        throw err;
      }
    }
    if (typeof source !== 'string' || source === '') return [refused('send the operation as "query"', 'BAD_REQUEST')];
    if (operationName != null && typeof operationName !== 'string') return [refused('"operationName" must be a string', 'BAD_REQUEST')];
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return [refused('"variables" must be an object', 'BAD_REQUEST')];
    const vars = (variables ?? {}) as Record<string, unknown>;
    const checked = checkOperation(schema, this.#limits, source, operationName ?? undefined, vars);
    if ('errors' in checked) return checked.errors;
    const { document, operation, figures } = checked;
    if (operation.operation !== 'subscription') {
      return [refused('only subscriptions are served here: send queries and mutations with HTTP POST to /graphql', 'BAD_REQUEST')];
    }
    const refusal = exceededLimit(figures, this.#limits);
    if (refusal) return [operationRefused(refusal)];
    const denied = this.#authorize?.(document, operation, request.viewer) ?? [];
    if (denied.length > 0) return denied.map((path) => unauthorizedField(path, request.viewer !== null));
    return { document, source, operationName: operationName ?? undefined, variables: vars };
  }

  /** Admits one more subscription on this session, or says which bound it would pass. */
  #admit(session: Session): GraphQLError | undefined {
    if (session.active >= this.bounds.perConnection) {
      return tooManyRequests(`at most ${this.bounds.perConnection} subscriptions per connection: end one first`, 1);
    }
    const user = session.viewer?.id;
    if (user && (this.#perUser.get(user) ?? 0) >= this.bounds.perUser) {
      return tooManyRequests(`at most ${this.bounds.perUser} subscriptions per user: end one first`, 1);
    }
    session.active += 1;
    if (user) this.#perUser.set(user, (this.#perUser.get(user) ?? 0) + 1);
    active.inc();
    return undefined;
  }

  #release(session: Session) {
    session.active -= 1;
    const user = session.viewer?.id;
    if (user) {
      const left = (this.#perUser.get(user) ?? 1) - 1;
      if (left > 0) this.#perUser.set(user, left);
      else this.#perUser.delete(user);
    }
    active.dec();
  }

  /**
   * The client's events: each the owning subgraph's event, completed with every subgraph's fields.
   * Subscribers of the same operation, variables and token share one stream (broadcast.ts); two
   * tokens never share one, so nobody receives what was resolved for someone else.
   */
  run(session: Session, op: PreparedOperation): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
    const refusal = this.#admit(session);
    if (refusal) return { errors: [refusal] };
    const log = session.log.child({ operationName: op.operationName });
    const key = JSON.stringify([op.operationName ?? null, op.source, op.variables, session.authorization ?? null]);
    let stream = this.#streams.get(key)?.broadcast;
    const joined = stream?.open === true;
    if (!stream || !stream.open) {
      const state: Partial<Stream> & Pick<Stream, 'op' | 'log'> = { op, log };
      const started = new Broadcast<ExecutionResult>({
        start: () => this.#source(session, state, log),
        onEnd: () => {
          if (this.#streams.get(key)?.broadcast === started) this.#streams.delete(key);
          streams.dec();
        },
        maxQueued: MAX_QUEUED_EVENTS,
        overflow: () => ({ errors: [tooManyRequests('events came faster than this subscription read them; subscribe again', 1)] }),
      });
      state.broadcast = started;
      streams.inc();
      this.#streams.set(key, state as Stream);
      stream = started;
    }
    log.info({ joined }, 'subscription started');
    return endsOnce(stream.subscribe(), () => {
      this.#release(session);
      log.info('subscription ended');
    });
  }

  /**
   * A new supergraph is loaded (the planner has it): every open stream is planned again. The same
   * subscription at the subgraph: the next event is completed with the new plan (an event being
   * completed finishes with the plan it started with), so none is lost or sent twice. A different
   * one (another subgraph owns the field, another selection is sent to it): the stream subscribes
   * again with it (interrupt), the subgraph's first event being the current state; the same one at
   * a new address (the subgraph moved): subscribed again there, resuming after its last event. No
   * longer valid: the stream ends with one error saying why.
   */
  reloaded(): void {
    for (const stream of this.#streams.values()) {
      if (!stream.plan || !stream.broadcast.open) continue; // not planned yet: it plans with the new supergraph
      let next: ReturnType<SubscriptionPlanner['replan']>;
      try {
        next = this.#planner.replan(planKey(stream.op), stream.op.document, stream.op.operationName);
      } catch (err) {
        next = { invalid: 'it could not be planned' };
        stream.log.error({ err }, 'subscription could not be planned against the new supergraph');
      }
      if ('invalid' in next) {
        stream.log.info({ reason: next.invalid }, 'subscription ended: invalidated by the new supergraph');
        stream.broadcast.end({ errors: [subscriptionInvalidated(next.invalid)] });
      } else if (samePrimary(stream.plan, next)) {
        if (this.#planner.urlOf(next.primary.serviceName) === stream.url) {
          stream.plan = next;
          stream.pending = undefined;
        } else {
          // The same subscription, at the subgraph's new address: moved there, resuming after its last event.
          stream.log.info({ subgraph: next.primary.serviceName }, 'subgraph routed elsewhere by the new supergraph: subscribing there');
          stream.pending = next;
          stream.interrupt?.();
        }
      } else {
        stream.log.info({ subgraph: next.primary.serviceName }, 'subscription at the subgraph changed with the new supergraph: subscribing again');
        stream.pending = next;
        stream.interrupt?.();
      }
    }
  }

  /** A stream's source: subscribed at the owning subgraph, each event completed through the stream's current plan. */
  #source(session: Session, stream: Partial<Stream> & Pick<Stream, 'op' | 'log'>, log: Logger): Source<ExecutionResult> {
    const planner = this.#planner;
    const { op } = stream;
    const context: GatewayContext = { viewer: session.viewer, authorization: session.authorization, clientAddress: session.clientAddress, requestId: session.requestId, log };
    const connection = this.#upstreams.acquire(session.authorization, session.requestId, log);
    let upstream: AsyncIterableIterator<FormattedExecutionResult> | undefined;
    let subgraph: string | undefined;
    let stopped = false;
    let interrupted = false;
    stream.interrupt = () => {
      interrupted = true;
      void upstream?.return?.();
    };
    const events = (async function* () {
      try {
        // Prepared under the supergraph of its time: valid under the current one?
        const first = planner.replan(planKey(op), op.document, op.operationName);
        if ('invalid' in first) {
          yield { errors: [subscriptionInvalidated(first.invalid)] };
          return;
        }
        stream.plan = first;
      } catch (err) {
        log.error({ err }, 'subscription could not be planned');
        yield { errors: [internalError('the subscription could not be planned')] };
        return;
      }
      /** The last event sent, when subscribing again: the subgraph's first event is the current state, not sent twice. */
      let resent: string | undefined;
      let last: string | undefined;
      /**
       * Where the stream stands in the subgraph's event history (lib/subgraph/subscriptions.ts): sent
       * with the subscription, and read again by the graphql-ws client each time it subscribes again
       * after a dropped connection, so that the subgraph replays what came meanwhile.
       */
      const resume: { lastEventId: string | null } = { lastEventId: null };
      /** The subgraph's event ids this stream delivered: a replayed event is sent once. */
      const delivered = new Set<string>();
      for (;;) {
        const subscribed = stream.plan;
        subgraph = subscribed.primary.serviceName;
        log.info({ subgraph }, 'subscription stream started');
        try {
          stream.url = planner.urlOf(subgraph);
          upstream = connection.upstream.subscribe(stream.url, {
            query: subscribed.primary.operation,
            operationName: subscribed.primary.operationName ?? undefined,
            variables: primaryVariables(subscribed.primary, op.variables),
            extensions: resume,
          });
          for await (const tagged of upstream) {
            const { extensions, ...event } = tagged;
            const position = extensions?.lastEventId;
            if (typeof position === 'string') resume.lastEventId = position;
            // Where the stream starts: nothing for the client.
            if (event.data == null && !event.errors) continue;
            // The subgraph refused (no access, unknown order...) or says events may be missing: its errors as it sent them.
            if (event.data == null) {
              // Not resumed where it stopped (maybe another database, with ids of its own): what was delivered no longer tells.
              if (event.errors?.some((e) => e.extensions?.code === ErrorCode.EVENTS_MISSED)) delivered.clear();
              yield { errors: (event.errors ?? []).map(fromFormatted) } as ExecutionResult;
              continue;
            }
            const eventIds = Array.isArray(extensions?.eventIds) ? (extensions.eventIds as unknown[]).filter((id): id is string => typeof id === 'string') : [];
            // Each remembered; an event all of whose ids were delivered is a replay of one the client had.
            if (eventIds.length > 0 && eventIds.filter((id) => remember(delivered, id)).length === 0) continue;
            // The plan now: a new supergraph may have replaced it (same subscription at the subgraph).
            const result = await planner.complete(stream.plan, event, op.variables, context);
            last = JSON.stringify(result);
            if (resent !== undefined && last === resent) {
              resent = undefined;
              continue;
            }
            resent = undefined;
            yield result;
          }
          if (stopped || !interrupted) return;
          // Interrupted by a new supergraph: subscribe again with its plan.
          interrupted = false;
          stream.plan = stream.pending ?? stream.plan;
          stream.pending = undefined;
          resent = last;
          // Another subgraph's history: start from its current state there.
          if (stream.plan.primary.serviceName !== subgraph) {
            resume.lastEventId = null;
            delivered.clear();
          }
        } catch (err) {
          if (stopped) return;
          log.warn({ err, subgraph }, 'subscription ended: subgraph unreachable');
          // A transport failure: the client may subscribe again (and gets the current state first).
          yield { errors: [serviceUnavailable(`the ${subgraph} service is unavailable; subscribe again`, subgraph)] };
          return;
        }
      }
    })();
    return {
      events,
      stop: () => {
        stopped = true;
        void upstream?.return?.(); // unsubscribes at the subgraph
        connection.release();
      },
    };
  }
}

/** A subgraph's error (as JSON) as the GraphQLError the transports format again. */
const fromFormatted = (e: GraphQLFormattedError) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions });

/** The events of `source`, and `end` run once when they end, whether they ran out or the client left. */
function endsOnce<T>(source: AsyncIterator<T>, end: () => void): AsyncIterableIterator<T> {
  let ended = false;
  const once = () => {
    if (ended) return;
    ended = true;
    end();
  };
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const result = await source.next();
      if (result.done) once();
      return result;
    },
    async return() {
      once();
      return (await source.return?.()) ?? { done: true, value: undefined };
    },
  };
  return iterator;
}
