// One cost estimate per request: the figures of the operation a request runs (operation-cost.ts),
// estimated once and shared by every check that reads them in Apollo Server's pipeline (the limits
// plugin, and at the gateway the cost metrics and the cost budget). Keyed by the request context,
// which Apollo Server hands, the same object, to every hook of one operation (each operation of a
// batch has its own). When the gateway's access rules swap the document for one without the
// fields the caller may not read, that document is estimated once more: it is what is planned.
// Across requests, an estimate is remembered per document and shape of its variables (`remembered`
// below): a subgraph receives the gateway's same few fetches, each time with other ids.
import { GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { estimateOperation, type OperationFigures } from './operation-cost.js';
import { exceededLimit, type OperationLimits } from './operation-limits.js';

/** What a pipeline hook knows of its operation (Apollo Server's request context, from didResolveOperation on; with an operation). */
export interface RequestOperation {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation?: OperationDefinitionNode | null;
  readonly request: { readonly variables?: Readonly<Record<string, unknown>> };
}

interface Estimate {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** The figures, or the estimate's refusal (a slicing argument missing). */
  result: OperationFigures | GraphQLError;
}

const estimates = new WeakMap<object, Estimate[]>();

/** Estimates remembered per document, at most this many variable shapes each (a `first` may take many values). */
const SHAPES_PER_DOCUMENT = 64;

/**
 * What of a variable's value the estimate reads (operation-cost.ts): an integer's value (a slicing
 * argument), a list's length (`_entities` representations), null against absent (a default
 * applies); any other value reads as no size at all, so every id or text has the same shape.
 */
function shapeOf(variables: Readonly<Record<string, unknown>>, name: string): string {
  if (!(name in variables)) return 'a';
  const value = variables[name];
  if (value === null || value === undefined) return 'n';
  if (typeof value === 'number') return String(value);
  return Array.isArray(value) ? `l${value.length}` : 'x';
}

/** Apollo Server's document store hands the same parsed document to every request of one query text. */
const remembered = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, OperationFigures>>>();

function estimateByShape(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> = {}): OperationFigures | GraphQLError {
  let documents = remembered.get(schema);
  if (!documents) remembered.set(schema, (documents = new WeakMap()));
  let shapes = documents.get(document);
  if (!shapes) documents.set(document, (shapes = new Map()));
  let key = operation.name?.value ?? '';
  for (const definition of operation.variableDefinitions ?? []) key += `|${shapeOf(variables, definition.variable.name.value)}`;
  const known = shapes.get(key);
  if (known) return known;
  let figures: OperationFigures;
  try {
    figures = estimateOperation(schema, document, operation, variables);
  } catch (err) {
    // A refusal is not remembered: each request gets an error of its own.
    if (!(err instanceof GraphQLError)) throw err;
    return err;
  }
  if (shapes.size < SHAPES_PER_DOCUMENT) shapes.set(key, figures);
  return figures;
}

function estimateOf(request: RequestOperation): Estimate {
  const { operation } = request;
  if (!operation) throw new Error('no operation to estimate: the request did not resolve one');
  let known = estimates.get(request);
  if (!known) estimates.set(request, (known = []));
  const found = known.find((e) => e.document === request.document && e.operation === operation);
  if (found) return found;
  const estimate = { document: request.document, operation, result: estimateByShape(request.schema, request.document, operation, request.request.variables) };
  known.push(estimate);
  return estimate;
}

/** The figures of the operation as the request holds it now; throws the estimate's refusal. */
export function requestFigures(request: RequestOperation): OperationFigures {
  const { result } = estimateOf(request);
  if (result instanceof GraphQLError) throw result;
  return result;
}

/**
 * Whether the limits refuse the request: judged on its first estimate, the operation as the client
 * sent it, which is what the limits plugin checks (it runs before the access rules take fields out).
 */
export function refusedByLimits(request: RequestOperation, limits: OperationLimits): boolean {
  const first = estimates.get(request)?.[0] ?? estimateOf(request);
  return first.result instanceof GraphQLError || exceededLimit(first.result, limits) !== undefined;
}
