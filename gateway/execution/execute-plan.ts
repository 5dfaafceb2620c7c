// Executes a query plan that may hold Defer nodes (@apollo/query-planner with deferral on) over one
// shared result, and says when each part of the response is complete: the primary part once its
// fetches are done, each deferred fragment once its own are. Apollo Gateway's executeQueryPlan runs
// the same plan nodes but stops at a Defer node and does not export its node executor, so this is
// its executor (Sequence, Parallel, Flatten, Fetch with @requires and data rewrites, Condition)
// written again with Defer added; the data rewrites, the merge of fetched data and the final shaping
// (resultShaping's computeResponse, used by ./shape.ts) are Apollo Gateway's own modules.
import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { generateHydratedPaths } from '@apollo/gateway/dist/executeQueryPlan.js';
import { deepMerge } from '@apollo/gateway/dist/utilities/deepMerge.js';
import { ERRORS, errorCodeDef, type VariableDefinitions } from '@apollo/federation-internals';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { evaluateCondition, getResponseName, type FetchNode, type PlanNode, type QueryPlanSelectionNode } from '@apollo/query-planner';
import { GraphQLError, Kind, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { inSpan } from '../../lib/telemetry/tracing.js';
import type { GatewayContext } from '../context.js';

type Data = Record<string, unknown>;
type Path = (string | number)[];

/** Where a plan node applies: the objects at `path` (`@` stands for every item of a list). */
interface Cursor {
  path: Path;
  data: Data | Data[];
  /** The whole result, where an entity error's path is found again. */
  root: Data;
}

/** One part of the response: the primary part (label undefined) or one deferred fragment, by its label. */
export interface PartDone {
  label: string | undefined;
  /** The errors of this part's fetches. */
  errors: GraphQLError[];
  /** Whether more parts will follow. */
  hasNext: boolean;
}

export interface PlanExecution {
  /** The supergraph schema (for data rewrites and type conditions). */
  supergraphSchema: GraphQLSchema;
  services: ServiceMap;
  variables: Record<string, unknown>;
  variableDefinitions: VariableDefinitions;
  context: GatewayContext;
  /** Passed to the data sources as Apollo Gateway passes its own. */
  requestContext: GatewayGraphQLRequestContext<GatewayContext>;
  /** Called, in order, as each part's fetches are done; a part is never reported before the part it is deferred in. */
  onPart(part: PartDone): void;
}

/** Runs `node` into `data` (the unshaped result every part shares); resolves once every part is reported. */
export async function executePlan(node: PlanNode | undefined, data: Data, execution: PlanExecution): Promise<void> {
  /** Deferred fragments announced (their Defer node's primary done) and not yet reported. */
  let pending = 0;
  /** Runs one part's node and reports the part once, when its fetches are done (before its own deferred fragments run). */
  async function runPart(label: string | undefined, partNode: PlanNode | undefined, deferred: boolean): Promise<void> {
    const errors: GraphQLError[] = [];
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      if (deferred) pending -= 1;
      execution.onPart({ label, errors, hasNext: pending > 0 });
    };
    if (partNode) await run(partNode, { path: [], data, root: data }, errors, report);
    report();
  }

  async function run(node: PlanNode, cursor: Cursor | undefined, errors: GraphQLError[], partDone: () => void): Promise<void> {
    if (!cursor) return;
    switch (node.kind) {
      case 'Sequence':
        for (const child of node.nodes) await run(child, cursor, errors, partDone);
        return;
      case 'Parallel':
        await Promise.all(node.nodes.map((child) => run(child, cursor, errors, partDone)));
        return;
      case 'Flatten':
        return run(node.node, moveInto(cursor, node.path), errors, partDone);
      case 'Fetch':
        try {
          await executeFetch(node, cursor, errors, execution);
        } catch (err) {
          errors.push(err instanceof GraphQLError ? err : new GraphQLError((err as Error).message, { originalError: err as Error }));
        }
        return;
      case 'Condition': {
        const branch = evaluateCondition(node, execution.variableDefinitions, execution.variables) ? node.ifClause : node.elseClause;
        if (branch) await run(branch, cursor, errors, partDone);
        return;
      }
      case 'Defer': {
        if (node.primary.node) await run(node.primary.node, cursor, errors, partDone);
        // The enclosing part is complete; the fragments deferred in it are announced before it is reported.
        pending += node.deferred.length;
        partDone();
        await Promise.all(node.deferred.map((d) => runPart(d.label, d.node, true)));
        return;
      }
    }
  }

  await runPart(undefined, node, false);
}

/** The objects at `path` below the cursor, lists flattened. */
function moveInto(cursor: Cursor, path: Path): Cursor | undefined {
  const data = flatten(cursor.data, path);
  return data ? { path: [...cursor.path, ...path], data: data as Data | Data[], root: cursor.root } : undefined;
}

function flatten(value: unknown, path: Path): unknown {
  if (path.length === 0 || value == null) return value;
  const [head, ...rest] = path;
  if (head === '@') return (value as unknown[]).flatMap((item) => flatten(item, rest));
  return flatten(Object.hasOwn(value as Data, head as string) ? (value as Data)[head as string] : undefined, rest);
}

/** The representation of an entity for a `requires` selection (keys and @requires fields), or null if it lacks one. */
function selectRequired(schema: GraphQLSchema, source: Data | null, selections: readonly QueryPlanSelectionNode[]): Data | null {
  if (source === null) return null;
  const result: Data = Object.create(null);
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const name = getResponseName(selection);
      const value = source[name];
      if (value === undefined) return null;
      const inner = selection.selections;
      if (Array.isArray(value)) result[name] = value.map((item) => (inner ? selectRequired(schema, item as Data, inner) : item));
      else result[name] = inner ? selectRequired(schema, value as Data, inner) : value;
    } else if (selection.typeCondition && isObjectOfType(schema, source, selection.typeCondition)) {
      deepMerge(result, selectRequired(schema, source, selection.selections));
    }
  }
  return result;
}

async function executeFetch(fetch: FetchNode, cursor: Cursor, errors: GraphQLError[], execution: PlanExecution): Promise<void> {
  const service: GraphQLDataSource | undefined = execution.services[fetch.serviceName];
  if (!service) throw new Error(`no subgraph ${fetch.serviceName} in the supergraph`);
  const entities = (Array.isArray(cursor.data) ? cursor.data : [cursor.data]).filter((e) => e != null);
  if (entities.length === 0) return;
  const variables: Data = Object.create(null);
  for (const name of fetch.variableUsages ?? []) {
    if (Object.hasOwn(execution.variables, name) && execution.variables[name] !== undefined) variables[name] = execution.variables[name];
  }

  const send = (vars: Data) =>
    inSpan('gateway.fetch', { service: fetch.serviceName }, async () => {
      const response = await service.process({
        kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
        request: { query: fetch.operation, variables: vars, operationName: fetch.operationName },
        incomingRequestContext: execution.requestContext,
        context: execution.context,
        document: fetch.operationDocumentNode,
        pathInIncomingRequest: undefined,
      } as Parameters<GraphQLDataSource['process']>[0]);
      if (response.errors) errors.push(...response.errors.map((e) => downstreamError(e, fetch, cursor)));
      return response.data as Data | null | undefined;
    });

  if (!fetch.requires) {
    const received = await send(variables);
    if (received) applyRewrites(execution.supergraphSchema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }
  const representations: Data[] = [];
  const owners: number[] = [];
  entities.forEach((entity, i) => {
    const representation = selectRequired(execution.supergraphSchema, entity, fetch.requires!);
    if (representation && representation.__typename) {
      applyRewrites(execution.supergraphSchema, fetch.inputRewrites, representation);
      representations.push(representation);
      owners.push(i);
    }
  });
  if (representations.length === 0) return;
  const received = await send({ ...variables, representations });
  if (!received) return;
  const found = received._entities;
  if (!Array.isArray(found)) throw new Error('Expected "data._entities" in response to be an array');
  if (found.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  found.forEach((entity: Data | null, i) => {
    const owner = entities[owners[i]!] as Data;
    if (entity && !entity.__typename) entity.__typename = owner.__typename;
    if (entity) applyRewrites(execution.supergraphSchema, fetch.outputRewrites, entity);
    deepMerge(owner, entity);
  });
}

/** A subgraph's error with its path in the client's response, as Apollo Gateway reports it. */
function downstreamError(error: GraphQLFormattedError, fetch: FetchNode, cursor: Cursor): GraphQLError {
  let path: Path | undefined;
  if (error.path && fetch.requires && typeof error.path[1] === 'number') {
    // An _entities error: its index names one representation, whose path in the result is hydrated from the data.
    const hydrated: Path[] = [];
    generateHydratedPaths([], cursor.path as string[], cursor.root, hydrated);
    path = [...(hydrated[error.path[1]] ?? cursor.path), ...error.path.slice(2)];
  } else if (error.path) {
    path = [...cursor.path.filter((p) => p !== '@'), ...error.path];
  }
  const options = { originalError: error as Error, path, extensions: { ...error.extensions, serviceName: fetch.serviceName } };
  const message = error.message || `Error while fetching subquery from service "${fetch.serviceName}"`;
  const code = errorCodeDef(error as GraphQLError);
  if (!code && error.extensions?.code) return new GraphQLError(message, options);
  return (code ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}
