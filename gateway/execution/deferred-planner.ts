// Plans and runs deferred operations against the gateway's current supergraph: @apollo/query-planner
// with deferral on (Apollo Gateway's own planner has it off), the plan run by ./execute-plan.ts
// through the gateway's subgraph client, and each part shaped as the client's operation asks
// (./defer-document.ts for the shapes, Apollo Gateway's computeResponse for aliases, __typename,
// abstract types and null propagation). The response's payloads follow the incremental delivery
// format Apollo Client and Apollo Router speak (deferSpec=20220824).
import type { ServiceMap } from '@apollo/gateway';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import { operationFromDocument, Supergraph, type Operation, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { executeSync, GraphQLError, Kind, print, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { SubgraphClient } from '../subgraph-client/types.js';
import { withDefer } from '../../lib/defer-directive.js';
import { costModelOf, useCostModel } from '../../lib/security/operation-cost.js';
import { normalizeDefer, partShape, primaryShape, wholeShape, type DeferredFragment, type PartShape } from './defer-document.js';
import { executePlan, type PartDone } from './execute-plan.js';

/** The first payload of a deferred response. */
export interface InitialPayload {
  data: Record<string, unknown> | null;
  errors?: readonly GraphQLError[];
  hasNext: boolean;
}

/** One deferred fragment's data at one place in the response (a fragment inside a list arrives once per item). */
export interface IncrementalItem {
  data: Record<string, unknown> | null;
  path: (string | number)[];
  label?: string;
  errors?: readonly GraphQLError[];
}

/** Every payload after the first. */
export interface SubsequentPayload {
  incremental?: IncrementalItem[];
  hasNext: boolean;
}

/** One loaded supergraph and what is derived from it; replaced whole, never changed in place. */
interface Loaded {
  planner: QueryPlanner;
  apiSchema: Schema;
  /** The public schema with @defer declared: what deferred operations are validated against. */
  schema: GraphQLSchema;
  graphqlApiSchema: GraphQLSchema;
  supergraphSchema: GraphQLSchema;
  services: ServiceMap;
}

/** A normalized operation, planned, with its shapes (built once per operation text). */
interface Planned {
  loaded: Loaded;
  plan: QueryPlan;
  operation: OperationDefinitionNode;
  deferred: Map<string, DeferredFragment>;
  primary: Operation;
  whole: Operation;
  parts: Map<string, { shape: PartShape; operation: Operation }>;
}

/** Plans kept by operation text, least recently used dropped first; clients repeat the same few. */
const MAX_CACHED_PLANS = 500;

export class DeferredPlanner {
  #current: Loaded | undefined;
  readonly #plans = new Map<string, Planned>();

  /** The supergraph to build from on first use, and the public schema with @defer (known at once). */
  #pending: { coreSupergraphSdl: string; graphqlApiSchema: GraphQLSchema; subgraphs: SubgraphClient } | undefined;
  #schema: GraphQLSchema | undefined;

  /**
   * Called with every supergraph the gateway loads; plans made with an earlier one are dropped.
   * The planner is built on the first deferred operation, not here: a gateway whose clients never
   * defer pays nothing for it at start or on a reload.
   */
  update(coreSupergraphSdl: string, graphqlApiSchema: GraphQLSchema, subgraphs: SubgraphClient): void {
    this.#pending = { coreSupergraphSdl, graphqlApiSchema, subgraphs };
    this.#schema = withDefer(graphqlApiSchema);
    // Priced as the public schema is (the supergraph's @cost and @listSize, given by useCost first).
    useCostModel(this.#schema, costModelOf(graphqlApiSchema));
    this.#current = undefined;
    this.#plans.clear();
  }

  #loaded(): Loaded {
    if (this.#current) return this.#current;
    if (!this.#pending || !this.#schema) throw new Error('the supergraph is not loaded yet');
    const { coreSupergraphSdl, graphqlApiSchema, subgraphs } = this.#pending;
    const supergraph = Supergraph.build(coreSupergraphSdl);
    const services: ServiceMap = Object.create(null);
    for (const subgraph of supergraph.subgraphs()) {
      services[subgraph.name] = subgraphs.buildService({ name: subgraph.name, url: subgraphs.route(subgraph.name, subgraph.url) });
    }
    this.#current = {
      planner: new QueryPlanner(supergraph, { incrementalDelivery: { enableDefer: true } }),
      apiSchema: supergraph.apiSchema(),
      schema: this.#schema,
      graphqlApiSchema,
      supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
      services,
    };
    return this.#current;
  }

  /** The public schema with @defer; undefined until the supergraph is loaded. */
  get schema(): GraphQLSchema | undefined {
    return this.#schema;
  }

  #plan(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): Planned {
    const current = this.#loaded();
    const normalized = normalizeDefer(document, operation, variables);
    // The key is the normalized text: `@defer(if: $v)` plans one way per value of $v.
    const key = print(normalized.document);
    const cached = this.#plans.get(key);
    if (cached) {
      this.#plans.delete(key);
      this.#plans.set(key, cached);
      return cached;
    }
    const shaping = (doc: DocumentNode) => operationFromDocument(current.apiSchema, doc, { validate: false });
    const parts = new Map<string, { shape: PartShape; operation: Operation }>();
    for (const label of normalized.deferred.keys()) {
      const shape = partShape(normalized.document, label);
      if (shape) parts.set(label, { shape, operation: shaping(shape.document) });
    }
    const planned: Planned = {
      loaded: current,
      plan: current.planner.buildQueryPlan(shaping(normalized.document)),
      operation: normalized.document.definitions[0] as OperationDefinitionNode,
      deferred: normalized.deferred,
      primary: shaping(primaryShape(normalized.document)),
      whole: shaping(wholeShape(normalized.document)),
      parts,
    };
    if (this.#plans.size >= MAX_CACHED_PLANS) this.#plans.delete(this.#plans.keys().next().value!);
    this.#plans.set(key, planned);
    return planned;
  }

  /**
   * Runs a valid deferred query (validated against `schema`): `send` gets the first payload once
   * the primary part's fetches are done, then one payload per deferred fragment as its fetches
   * finish, the last with `hasNext: false`. Resolves with the whole result (every part merged) once all are sent.
   */
  async run(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    context: GatewayContext,
    send: (payload: InitialPayload | SubsequentPayload) => void,
  ): Promise<ExecutionResult> {
    const planned = this.#plan(document, operation, variables);
    const { loaded } = planned;
    const data: Record<string, unknown> = Object.create(null);
    const allErrors: GraphQLError[] = [];
    const introspection = introspectionOf(loaded.graphqlApiSchema, planned.operation, variables);
    const shape = (op: Operation) => computeResponse({ operation: op, variables, input: data, introspectionHandling: introspection }).data ?? null;
    const requestContext = {
      request: { query: print(planned.operation), variables, operationName: planned.operation.name?.value },
      context,
      logger: context.log,
      metrics: {},
    } as unknown as GatewayGraphQLRequestContext<GatewayContext>;

    const onPart = ({ label, errors, hasNext }: PartDone) => {
      allErrors.push(...errors);
      if (label === undefined) {
        send({ data: shape(planned.primary), ...(errors.length ? { errors } : {}), hasNext });
        return;
      }
      const part = planned.parts.get(label);
      const items = part ? itemsOf(shape(part.operation), part.shape.keys) : { found: [], stoppedAt: [] };
      const shown = planned.deferred.get(label)?.label;
      const incremental: IncrementalItem[] = items.found.map(({ data: item, path }) => ({ data: item, path, ...(shown !== undefined ? { label: shown } : {}) }));
      // Errors go with the part's first item, or, when the fragment applies nowhere (its parent
      // became null meanwhile), on an item of their own without data.
      if (errors.length > 0) {
        if (incremental[0]) incremental[0].errors = errors;
        else incremental.push({ data: null, path: items.stoppedAt, ...(shown !== undefined ? { label: shown } : {}), errors });
      }
      if (incremental.length > 0 || !hasNext) send({ ...(incremental.length ? { incremental } : {}), hasNext });
    };

    const node = planned.plan.node;
    if (node?.kind === 'Subscription') throw new Error('a subscription is not run as a deferred query');
    await executePlan(node, data, {
      supergraphSchema: loaded.supergraphSchema,
      services: loaded.services,
      variables,
      variableDefinitions: planned.primary.variableDefinitions,
      context,
      requestContext,
      onPart,
    });
    return { data: shape(planned.whole), ...(allErrors.length ? { errors: allErrors } : {}) };
  }
}

/**
 * The objects a deferred fragment applies to in its shaped part: following `keys` from the root,
 * every item of a list in turn. An object the fragment's type condition does not match comes out
 * empty and is left out.
 */
function itemsOf(shaped: Record<string, unknown> | null, keys: string[]) {
  const found: { data: Record<string, unknown>; path: (string | number)[] }[] = [];
  let stoppedAt: (string | number)[] = [];
  const walk = (value: unknown, rest: string[], path: (string | number)[]) => {
    if (value == null) {
      if (path.length > stoppedAt.length) stoppedAt = path;
      return;
    }
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, rest, [...path, i]));
    const object = value as Record<string, unknown>;
    if (rest.length === 0) {
      if (Object.keys(object).length > 0) found.push({ data: object, path });
      return;
    }
    walk(object[rest[0]!], rest.slice(1), [...path, rest[0]!]);
  };
  walk(shaped, keys, []);
  return { found, stoppedAt };
}

/** Answers the introspection fields of an operation from the public schema, as Apollo Gateway does. */
function introspectionOf(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown>) {
  return (selection: { expandFragments(): { toSelectionNode(): unknown } }) => {
    const node = selection.expandFragments().toSelectionNode() as { alias?: { value: string }; name: { value: string } };
    const document: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [{ kind: Kind.OPERATION_DEFINITION, operation: operation.operation, variableDefinitions: operation.variableDefinitions, selectionSet: { kind: Kind.SELECTION_SET, selections: [node as never] } }],
    };
    const { data } = executeSync({ schema, document, rootValue: {}, variableValues: variables });
    return (data as Record<string, unknown> | null | undefined)?.[node.alias?.value ?? node.name.value];
  };
}
