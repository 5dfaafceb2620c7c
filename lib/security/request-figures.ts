// One cost estimate per request: the figures of the operation a request runs (operation-cost.ts),
// estimated once and shared by every check that reads them in Apollo Server's pipeline (the limits
// plugin, and at the gateway the cost metrics and the cost budget). Keyed by the request context,
// which Apollo Server hands, the same object, to every hook of one operation (each operation of a
// batch has its own). When the gateway's access rules swap the document for one without the
// fields the caller may not read, that document is estimated once more: it is what is planned.
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

function estimateOf(request: RequestOperation): Estimate {
  const { operation } = request;
  if (!operation) throw new Error('no operation to estimate: the request did not resolve one');
  let known = estimates.get(request);
  if (!known) estimates.set(request, (known = []));
  const found = known.find((e) => e.document === request.document && e.operation === operation);
  if (found) return found;
  let result: OperationFigures | GraphQLError;
  try {
    result = estimateOperation(request.schema, request.document, operation, request.request.variables);
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    result = err;
  }
  const estimate = { document: request.document, operation, result };
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
