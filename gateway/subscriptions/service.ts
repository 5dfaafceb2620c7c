// Federated subscriptions, whatever the transport (graphql-ws or graphql-sse): the operation is
// checked like a query (validation, the operation limits, cost), planned, subscribed to at the
// owning subgraph, and every event completed through the query plan (plan.ts).
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { Viewer } from '../../lib/auth.js';
import { ErrorCode, internalError, operationRefused, serviceUnavailable, tooManyRequests } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { estimateOperation, exceededLimit, limitParseOptions, limitRules, type OperationLimits } from '../../lib/operation-limits.js';
import { gatewayMetrics } from '../metrics.js';
import type { GatewayContext } from '../server.js';
import { operationIn, type OperationSent } from '../trusted-documents.js';
import { primaryVariables, type SubscriptionPlan, type SubscriptionPlanner } from './plan.js';
import type { Upstream } from './upstream.js';

/** Subscriptions open in this process, over every transport. */
const active = gatewayMetrics().subscriptionsActive;

export interface SubscriptionBounds {
  /** Subscriptions one connection may hold at once. */
  perConnection: number;
  /** Subscriptions one user may hold at once, over all their connections to this gateway. */
  perUser: number;
  /** Bytes waiting in a socket's send buffer beyond which its client is disconnected. */
  maxBufferedBytes: number;
}

export const DEFAULT_SUBSCRIPTION_BOUNDS: SubscriptionBounds = { perConnection: 50, perUser: 200, maxBufferedBytes: 1024 * 1024 };

/** One client connection (a WebSocket, or one SSE request): who it is, and its subgraph subscriptions. */
export interface Session {
  viewer: Viewer | null;
  authorization: string | undefined;
  clientAddress: string | undefined;
  requestId: string;
  log: Logger;
  upstream: Upstream;
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

/** The trusted-documents policy (gateway/trusted-documents.ts): the text to run, or a refusal thrown. */
export type AdmitOperation = (sent: OperationSent) => string | undefined;

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
  readonly bounds: SubscriptionBounds;
  readonly #perUser = new Map<string, number>();

  constructor(planner: SubscriptionPlanner, limits: OperationLimits, bounds: SubscriptionBounds, admit?: AdmitOperation) {
    this.#planner = planner;
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
    let document: DocumentNode;
    try {
      document = parse(source, limitParseOptions(this.#limits));
    } catch (err) {
      const error = err as GraphQLError;
      // reportTokenLimit (lib/operation-limits.ts) reports the token limit like the other limits.
      return [new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
    }
    const errors = validate(schema, document, [...specifiedRules, ...limitRules(this.#limits)]);
    if (errors.length > 0) return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: e.extensions.code ?? 'GRAPHQL_VALIDATION_FAILED' } }));
    const operation = getOperationAST(document, operationName ?? undefined);
    if (!operation) return [refused('name the operation to run with "operationName"', 'BAD_REQUEST')];
    if (operation.operation !== 'subscription') {
      return [refused('only subscriptions are served here: send queries and mutations with HTTP POST to /graphql', 'BAD_REQUEST')];
    }
    const vars = (variables ?? {}) as Record<string, unknown>;
    try {
      const refusal = exceededLimit(estimateOperation(schema, document, operation, vars), this.#limits);
      if (refusal) return [operationRefused(refusal)];
    } catch (err) {
      if (err instanceof GraphQLError) return [err];
      throw err;
    }
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

  /** The client's events: each the owning subgraph's event, completed with every subgraph's fields. */
  run(session: Session, op: PreparedOperation): AsyncIterable<ExecutionResult> | ExecutionResult {
    const refusal = this.#admit(session);
    if (refusal) return { errors: [refusal] };
    const planner = this.#planner;
    const release = () => this.#release(session);
    const log = session.log.child({ operationName: op.operationName });
    const context: GatewayContext = { authorization: session.authorization, clientAddress: session.clientAddress, requestId: session.requestId, log };
    let upstream: AsyncIterableIterator<FormattedExecutionResult> | undefined;
    let subgraph: string | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      release();
      void upstream?.return?.(); // unsubscribes at the subgraph
      log.info({ subgraph }, 'subscription ended');
    };
    const events = (async function* () {
      let plan: SubscriptionPlan;
      try {
        plan = planner.plan(`${op.operationName ?? ''}\n${op.source}`, op.document, op.operationName);
      } catch (err) {
        log.error({ err }, 'subscription could not be planned');
        yield { errors: [internalError('the subscription could not be planned')] };
        return;
      }
      subgraph = plan.primary.serviceName;
      log.info({ subgraph }, 'subscription started');
      try {
        upstream = session.upstream.subscribe(planner.urlOf(subgraph), {
          query: plan.primary.operation,
          operationName: plan.primary.operationName ?? undefined,
          variables: primaryVariables(plan.primary, op.variables),
        });
        for await (const event of upstream) {
          // The subgraph refused (no access, unknown order...): its errors as it sent them.
          if (event.data == null) yield { errors: (event.errors ?? []).map(fromFormatted) } as ExecutionResult;
          else yield await planner.complete(plan, event, op.variables, context);
        }
      } catch (err) {
        if (ended) return;
        log.warn({ err, subgraph }, 'subscription ended: subgraph unreachable');
        // A transport failure: the client may subscribe again (and gets the current state first).
        yield { errors: [serviceUnavailable(`the ${subgraph} service is unavailable; subscribe again`, subgraph)] };
      }
    })();
    return endsAtOnce(events, end);
  }
}

/** A subgraph's error (as JSON) as the GraphQLError the transports format again. */
const fromFormatted = (e: GraphQLFormattedError) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions });

/**
 * The events of `source`, and `end` run once when they end, however that happens. An async
 * generator waiting for its next event queues a return() until that event comes, which for a quiet
 * subscription is never: here the client's unsubscribe takes effect at once (counters released,
 * the subgraph told), and a pending next() ends.
 */
export function endsAtOnce<T>(source: AsyncIterator<T>, end: () => void): AsyncIterableIterator<T> {
  let stop: (() => void) | undefined;
  const stopped = new Promise<IteratorResult<T>>((resolve) => (stop = () => resolve({ done: true, value: undefined })));
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const result = await Promise.race([source.next(), stopped]);
      if (result.done) end();
      return result;
    },
    async return() {
      end();
      stop!();
      void source.return?.();
      return { done: true, value: undefined };
    },
  };
  return iterator;
}
