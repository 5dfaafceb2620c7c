// Planning and executing a federated subscription. @apollo/gateway plans queries only, but its
// query planner (the same one, on the same supergraph) plans a subscription into a
// `SubscriptionNode { primary, rest }`: `primary` is the subscription sent to the subgraph that owns
// the field, `rest` the entity fetches that complete every event with other subgraphs' fields.
// Every event is then run through the gateway's own executeQueryPlan, as the plan
// `Sequence [primary, rest]` in which the primary fetch answers with the event itself: batching,
// @requires, error paths and the final shaping of the response are exactly those of a query.
import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { specifiedRules, validate, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { SubgraphClient } from '../subgraph-client/types.js';

type OperationContext = ReturnType<typeof buildOperationContext>;

/** One loaded supergraph and what is derived from it; replaced whole, never changed in place. */
interface Loaded {
  supergraph: Supergraph;
  planner: QueryPlanner;
  apiSchema: Schema;
  graphqlApiSchema: GraphQLSchema;
  supergraphSchema: GraphQLSchema;
  services: ServiceMap;
}

/**
 * A subscription operation, planned: what to subscribe to, and how to complete each event. It
 * keeps the supergraph it was planned with, so an event is completed against one supergraph from
 * start to end even when a new one is loaded meanwhile.
 */
export interface SubscriptionPlan {
  primary: FetchNode;
  rest: PlanNode | undefined;
  operationContext: OperationContext;
  readonly loaded: Loaded;
}

/** Whether two plans subscribe to the same thing at the same subgraph (only the completion differs). */
export const samePrimary = (a: SubscriptionPlan, b: SubscriptionPlan): boolean =>
  a.primary.serviceName === b.primary.serviceName &&
  a.primary.operation === b.primary.operation &&
  JSON.stringify(a.primary.variableUsages ?? []) === JSON.stringify(b.primary.variableUsages ?? []);

/** Plans are kept per operation text; a client repeats the same few. */
const MAX_CACHED_PLANS = 500;

export class SubscriptionPlanner {
  #current: Loaded | undefined;
  readonly #plans = new Map<string, SubscriptionPlan>();
  #urls = new Map<string, string>();

  /**
   * Called by the gateway with every supergraph it loads (at start, and each composition after),
   * and its subgraph client: the data sources its queries use (headers forwarded, deadline).
   */
  update(coreSupergraphSdl: string, graphqlApiSchema: GraphQLSchema, subgraphs: SubgraphClient): void {
    const supergraph = Supergraph.build(coreSupergraphSdl);
    const services: ServiceMap = Object.create(null);
    const urls = new Map<string, string>();
    for (const subgraph of supergraph.subgraphs()) {
      const url = subgraphs.route(subgraph.name, subgraph.url);
      urls.set(subgraph.name, url);
      services[subgraph.name] = subgraphs.buildService({ name: subgraph.name, url });
    }
    this.#urls = urls;
    this.#current = {
      supergraph,
      planner: new QueryPlanner(supergraph),
      apiSchema: supergraph.apiSchema(),
      graphqlApiSchema,
      supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
      services,
    };
    this.#plans.clear();
  }

  get ready(): boolean {
    return this.#current !== undefined;
  }

  /** The HTTP URL of a subgraph; its subscriptions are served on the same path over WebSocket. */
  urlOf(name: string): string {
    const url = this.#urls.get(name);
    if (!url) throw new Error(`no subgraph ${name} in the supergraph`);
    return url;
  }

  /** The public schema clients validate against; undefined until the supergraph is loaded. */
  get schema(): GraphQLSchema | undefined {
    return this.#current?.graphqlApiSchema;
  }

  /**
   * The plan of an operation that was valid under an earlier supergraph, under the current one; or
   * the validation errors that make it invalid now (a field removed, an argument changed...).
   */
  replan(key: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan | { invalid: string } {
    const current = this.#current;
    if (!current) throw new Error('the supergraph is not loaded yet');
    const errors = validate(current.graphqlApiSchema, document, specifiedRules);
    if (errors.length > 0) return { invalid: errors.map((e) => e.message).join('; ') };
    return this.plan(key, document, operationName);
  }

  /** The plan of a valid subscription operation. */
  plan(key: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const current = this.#current;
    if (!current) throw new Error('the supergraph is not loaded yet');
    const cached = this.#plans.get(key);
    if (cached) return cached;
    const operation = operationFromDocument(current.apiSchema, document, { operationName });
    const queryPlan: QueryPlan = current.planner.buildQueryPlan(operation);
    const node = queryPlan.node;
    if (node?.kind !== 'Subscription') throw new Error('not a subscription operation');
    const plan: SubscriptionPlan = {
      primary: node.primary,
      rest: node.rest,
      operationContext: buildOperationContext({ schema: current.graphqlApiSchema, operationDocument: document, operationName }),
      loaded: current,
    };
    if (this.#plans.size >= MAX_CACHED_PLANS) this.#plans.delete(this.#plans.keys().next().value!);
    this.#plans.set(key, plan);
    return plan;
  }

  /**
   * One event of the primary subscription, completed with the other subgraphs' fields and shaped
   * as the client's operation asks.
   */
  async complete(plan: SubscriptionPlan, event: FormattedExecutionResult, variables: Record<string, unknown>, context: GatewayContext): Promise<ExecutionResult> {
    // The supergraph the plan was made with, whatever has been loaded since.
    const current = plan.loaded;
    const { primary, rest } = plan;
    const owner = current.services[primary.serviceName];
    if (!owner) throw new Error(`no subgraph ${primary.serviceName} in the supergraph`);
    // The owner answers the primary fetch with the event; any other fetch to it goes to the subgraph.
    const services: ServiceMap = {
      ...current.services,
      [primary.serviceName]: {
        process: (options) =>
          options.request.query === primary.operation ? Promise.resolve(event as Awaited<ReturnType<GraphQLDataSource['process']>>) : owner.process(options),
      },
    };
    const queryPlan: QueryPlan = { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary };
    const requestContext = {
      request: { query: plan.operationContext.operation.loc?.source.body, variables, operationName: plan.operationContext.operation.name?.value },
      context,
      logger: context.log,
      metrics: {},
    } as unknown as GatewayGraphQLRequestContext;
    return executeQueryPlan(queryPlan, services, requestContext, plan.operationContext, current.supergraphSchema, current.apiSchema);
  }
}

/** The variables the primary fetch uses, from the client's. */
export const primaryVariables = (primary: FetchNode, variables: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries((primary.variableUsages ?? []).filter((name) => name in variables).map((name) => [name, variables[name]]));
