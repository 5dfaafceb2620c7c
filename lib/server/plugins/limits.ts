// The operation limits that depend on the variables (cost, root fields, password checks), checked
// after validation and before execution, so the gateway refuses before it plans
// (lib/security/operation-limits.ts has the limits and the validation rules).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { operationRefused } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { estimateOperation, exceededLimit, type OperationFigures, type OperationLimits } from '../../security/operation-limits.js';

/** Figures remembered per document, at most this many variable shapes each (a `first` may take many values). */
const SHAPES_PER_DOCUMENT = 64;

/**
 * What of a variable's value the estimate can read: an integer's value (a slicing argument), a
 * list's length (`_entities` representations), null against absent (a default applies); any
 * other value reads as no size at all, so every id or text is the same shape.
 */
function shapeOf(variables: Readonly<Record<string, unknown>>, name: string): string {
  if (!(name in variables)) return 'a';
  const value = variables[name];
  if (value === null || value === undefined) return 'n';
  if (typeof value === 'number') return String(value);
  return Array.isArray(value) ? `l${value.length}` : 'x';
}

/**
 * The estimate of an operation, computed once per document (Apollo Server's document store hands
 * the same parsed document to each request of the same query) and shape of its variables: a
 * subgraph receives the same few fetches from the gateway, each time with other ids.
 */
function rememberedEstimates() {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, OperationFigures>>>();
  return (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> = {}): OperationFigures => {
    let documents = bySchema.get(schema);
    if (!documents) bySchema.set(schema, (documents = new WeakMap()));
    let shapes = documents.get(document);
    if (!shapes) documents.set(document, (shapes = new Map()));
    let key = operation.name?.value ?? '';
    for (const definition of operation.variableDefinitions ?? []) key += `|${shapeOf(variables, definition.variable.name.value)}`;
    let figures = shapes.get(key);
    if (!figures) {
      figures = estimateOperation(schema, document, operation, variables);
      if (shapes.size < SHAPES_PER_DOCUMENT) shapes.set(key, figures);
    }
    return figures;
  };
}

export function limitsPlugin<C extends BaseContext & { log: Logger }>(limits: OperationLimits): ApolloServerPlugin<C> {
  const estimate = rememberedEstimates();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const figures = estimate(schema, document, operation, request.variables);
          contextValue.log.debug(figures, 'operation figures');
          const refusal = exceededLimit(figures, limits);
          if (refusal) throw operationRefused(refusal);
        },
      };
    },
  };
}
