// The documents a deferred operation is planned and shaped with. The client's operation is first
// normalized: its fragment spreads inlined (so that each deferred fragment is one place in one
// tree), `@defer(if: false)` dropped, and every remaining @defer given a label (the client's, or
// one of ours that is never shown), by which the planner's DeferredNode and the response's part are
// matched. From the normalized operation come the shapes: the primary part (deferred fragments
// left out), each deferred fragment (only the fields leading to it, and its own fields), and the
// whole result (every fragment in place) for a client that takes one response.
import {
  GraphQLBoolean,
  GraphQLError,
  Kind,
  valueFromAST,
  visit,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';

/** Labels of ours start with this, which a client's label may not (deferRules). */
const OWN_LABEL = '__defer_';

const isDefer = (d: DirectiveNode) => d.name.value === 'defer';
const deferOf = (node: { directives?: readonly DirectiveNode[] | undefined }) => node.directives?.find(isDefer);

/** Cheap test on the text before anything is parsed: only a document that says @defer can defer. */
export const mentionsDefer = (text: string) => /@\s*defer\b/.test(text);

/**
 * What the gateway serves of @defer, beyond the directive's own definition: deferral on queries
 * only (a mutation's or subscription's fragments are sent whole), and labels that are static and unique.
 */
export const deferRules: ValidationRule = (context) => {
  const labels = new Set<string>();
  let operation: OperationDefinitionNode | undefined;
  const fragmentsInMutations = new Set<string>();
  return {
    OperationDefinition(node) {
      operation = node;
    },
    FragmentDefinition() {
      operation = undefined;
    },
    Directive(node) {
      if (!isDefer(node)) return;
      if (operation && operation.operation !== 'query') {
        context.reportError(new GraphQLError(`@defer is served on queries only; a ${operation.operation} gets its whole result at once: remove @defer.`, { nodes: [node] }));
      }
      const label = node.arguments?.find((a) => a.name.value === 'label');
      if (!label) return;
      if (label.value.kind !== Kind.STRING) {
        context.reportError(new GraphQLError('The label of @defer must be a string written in the operation, not a variable.', { nodes: [label] }));
        return;
      }
      if (label.value.value.startsWith(OWN_LABEL)) {
        context.reportError(new GraphQLError(`@defer labels starting with "${OWN_LABEL}" are the gateway's own: choose another label.`, { nodes: [label] }));
      }
      if (labels.has(label.value.value)) context.reportError(new GraphQLError(`The @defer label "${label.value.value}" is used twice: each deferred fragment needs its own label.`, { nodes: [label] }));
      labels.add(label.value.value);
    },
    FragmentSpread(node) {
      if (operation && operation.operation !== 'query') fragmentsInMutations.add(node.name.value);
    },
    Document: {
      leave(document) {
        // A named fragment with @defer inside, spread in a mutation or subscription, defers there too.
        for (const definition of document.definitions) {
          if (definition.kind !== Kind.FRAGMENT_DEFINITION || !fragmentsInMutations.has(definition.name.value)) continue;
          visit(definition, {
            Directive(node) {
              if (isDefer(node)) context.reportError(new GraphQLError('@defer is served on queries only: a fragment spread in a mutation or subscription may not defer.', { nodes: [node] }));
            },
          });
        }
      },
    },
  };
};

/** One deferred fragment of the normalized operation. */
export interface DeferredFragment {
  /** The label the client gave, shown in its part; undefined when it gave none. */
  label: string | undefined;
}

export interface NormalizedOperation {
  /** One operation, fragments inlined, every @defer labelled. */
  document: DocumentNode;
  /** By the label in the normalized document (the client's or ours). */
  deferred: Map<string, DeferredFragment>;
}


/**
 * The client's operation (valid, selected by name) with its fragments inlined, `@defer(if: false)`
 * dropped and every other @defer labelled. Inlining repeats a fragment at each spread; the cost
 * limit, which counts every field at every spread, bounds how large that makes the document.
 */
export function normalizeDefer(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): NormalizedOperation {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const deferred = new Map<string, DeferredFragment>();
  let counter = 0;

  const ifValue = (directive: DirectiveNode): boolean => {
    const arg = directive.arguments?.find((a) => a.name.value === 'if');
    if (!arg) return true;
    if (arg.value.kind === Kind.VARIABLE) {
      const name = arg.value.name.value;
      if (variables[name] !== undefined) return variables[name] === true;
      const definition = operation.variableDefinitions?.find((v) => v.variable.name.value === name);
      return definition?.defaultValue ? valueFromAST(definition.defaultValue, GraphQLBoolean) !== false : true;
    }
    return valueFromAST(arg.value, GraphQLBoolean) !== false;
  };

  /** The directives with @defer resolved: dropped when its `if` is false, else labelled. */
  const directivesOf = (directives: readonly DirectiveNode[] | undefined): DirectiveNode[] => {
    const out: DirectiveNode[] = [];
    for (const d of directives ?? []) {
      if (!isDefer(d)) {
        out.push(d);
        continue;
      }
      if (!ifValue(d)) continue;
      const given = d.arguments?.find((a) => a.name.value === 'label')?.value;
      const userLabel = given?.kind === Kind.STRING ? given.value : undefined;
      const label = userLabel ?? `${OWN_LABEL}${counter++}`;
      deferred.set(label, { label: userLabel });
      const argument: ArgumentNode = { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'label' }, value: { kind: Kind.STRING, value: label } };
      out.push({ ...d, arguments: [argument] });
    }
    return out;
  };

  const selectionSet = (set: SelectionSetNode): SelectionSetNode => ({ ...set, selections: set.selections.map(selection) });
  const selection = (node: SelectionNode): SelectionNode => {
    switch (node.kind) {
      case Kind.FIELD:
        return node.selectionSet ? { ...node, selectionSet: selectionSet(node.selectionSet) } : node;
      case Kind.INLINE_FRAGMENT:
        return { ...node, directives: directivesOf(node.directives), selectionSet: selectionSet(node.selectionSet) };
      case Kind.FRAGMENT_SPREAD: {
        const fragment = fragments.get(node.name.value)!;
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: directivesOf(node.directives),
          selectionSet: selectionSet(fragment.selectionSet),
        };
      }
    }
  };

  const normalized: OperationDefinitionNode = { ...operation, selectionSet: selectionSet(operation.selectionSet) };
  return { document: { kind: Kind.DOCUMENT, definitions: [normalized] }, deferred };
}

const labelOf = (fragment: InlineFragmentNode): string | undefined => {
  const value = deferOf(fragment)?.arguments?.find((a) => a.name.value === 'label')?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
};
const withoutDefer = (fragment: InlineFragmentNode): InlineFragmentNode => ({ ...fragment, directives: fragment.directives?.filter((d) => !isDefer(d)) });
const operationOf = (document: DocumentNode) => document.definitions[0] as OperationDefinitionNode;
const withSelections = (document: DocumentNode, selectionSet: SelectionSetNode): DocumentNode => ({
  ...document,
  definitions: [{ ...operationOf(document), selectionSet }],
});

/** A selection set with every deferred fragment left out (at any depth). */
function withoutDeferred(set: SelectionSetNode): SelectionSetNode {
  const selections: SelectionNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.INLINE_FRAGMENT && deferOf(s)) continue;
    if (s.kind === Kind.FIELD && s.selectionSet) selections.push({ ...s, selectionSet: withoutDeferred(s.selectionSet) });
    else if (s.kind === Kind.INLINE_FRAGMENT) selections.push({ ...s, selectionSet: withoutDeferred(s.selectionSet) });
    else selections.push(s);
  }
  return { ...set, selections };
}

/** The shape of the primary part: the normalized operation without its deferred fragments. */
export const primaryShape = (normalized: DocumentNode): DocumentNode => withSelections(normalized, withoutDeferred(operationOf(normalized).selectionSet));

/** The shape of the whole result: every deferred fragment in place, as if @defer were not there. */
export const wholeShape = (normalized: DocumentNode): DocumentNode =>
  visit(normalized, {
    InlineFragment(node) {
      return deferOf(node) ? withoutDefer(node) : undefined;
    },
  });

/** The shape of one deferred fragment, and the response keys of the fields leading to it. */
export interface PartShape {
  document: DocumentNode;
  /** Response keys from the root to the object the fragment applies to (inline fragments add none). */
  keys: string[];
}

/**
 * The shape of the deferred fragment labelled `label`: the fields that lead to it (nothing beside
 * them) and its own fields, fragments deferred inside it left out (they are parts of their own).
 */
export function partShape(normalized: DocumentNode, label: string): PartShape | undefined {
  const find = (set: SelectionSetNode, keys: string[]): { set: SelectionSetNode; keys: string[] } | undefined => {
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT && deferOf(s) && labelOf(s) === label) {
        return { set: { ...set, selections: [{ ...withoutDefer(s), selectionSet: withoutDeferred(s.selectionSet) }] }, keys };
      }
      if (s.kind === Kind.FIELD && s.selectionSet) {
        const inner = find(s.selectionSet, [...keys, (s.alias ?? s.name).value]);
        if (inner) return { set: { ...set, selections: [{ ...s, selectionSet: inner.set } as FieldNode] }, keys: inner.keys };
      }
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const inner = find(s.selectionSet, keys);
        const fragment = deferOf(s) ? withoutDefer(s) : s;
        if (inner) return { set: { ...set, selections: [{ ...fragment, selectionSet: inner.set }] }, keys: inner.keys };
      }
    }
    return undefined;
  };
  const found = find(operationOf(normalized).selectionSet, []);
  return found && { document: withSelections(normalized, found.set), keys: found.keys };
}
