// Refuses operations nested deeper than any client needs, before the gateway plans them: a query
// nested 50 levels deep would otherwise fan out into a long chain of subgraph calls.
import { GraphQLError, Kind, type DocumentNode, type SelectionSetNode, type ValidationRule } from 'graphql';

export const MAX_DEPTH = 12;

function depthOf(selectionSet: SelectionSetNode | undefined, fragments: Map<string, SelectionSetNode>, seen: Set<string>): number {
  if (!selectionSet) return 0;
  let max = 0;
  for (const selection of selectionSet.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) depth = selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, seen) : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) depth = depthOf(selection.selectionSet, fragments, seen);
    else if (!seen.has(selection.name.value)) {
      depth = depthOf(fragments.get(selection.name.value), fragments, new Set([...seen, selection.name.value]));
    }
    max = Math.max(max, depth);
  }
  return max;
}

export function operationDepth(document: DocumentNode): number {
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  let max = 0;
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) max = Math.max(max, depthOf(d.selectionSet, fragments, new Set()));
  }
  return max;
}

/** A validation rule, so an over-deep operation fails validation like any other invalid one. */
export function depthLimit(maxDepth = MAX_DEPTH): ValidationRule {
  return (context) => ({
    Document(document) {
      const depth = operationDepth(document);
      if (depth > maxDepth) context.reportError(new GraphQLError(`operation is nested ${depth} levels deep; the limit is ${maxDepth}`));
    },
  });
}
