// The cost estimate of an operation (see `estimateOperation`), and the figures beside it that
// depend on the variables: root fields and password checks. Linear in the size of the document:
// a fragment is measured once and its figures reused at every spread.
import {
  getNamedType,
  getNullableType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { MAX_PAGE_SIZE } from '../subgraph/connection.js';
/** Mutations that hash a password (scrypt, slow on purpose): one per operation, or they amplify password guessing. */
const PASSWORD_MUTATIONS = new Set(['login', 'register']);
export const MAX_PASSWORD_CHECKS = 1;

/** What a list without a size argument is assumed to hold: a full page. Every such list here holds fewer (8 categories, at most 50 items per order). */
export const UNSIZED_LIST = MAX_PAGE_SIZE;

export interface OperationFigures {
  cost: number;
  rootFields: number;
  passwordChecks: number;
}

/** The figures of a selection set, for the selection's parent resolved once. */
interface Totals {
  /** Fields resolved, except what `perItem` counts. */
  fixed: number;
  /** Fields resolved per item of the lists directly in this selection that have no size of their own (a connection's `edges`). */
  perItem: number;
  /** Fields directly in this selection (through fragments): the root fields when it is the operation's. */
  fields: number;
  /** `login`/`register` directly in this selection. */
  passwordChecks: number;
}

const ZERO: Totals = { fixed: 0, perItem: 0, fields: 0, passwordChecks: 0 };
/** Keeps huge estimates finite and exact enough to print. */
const capped = (n: number) => Math.min(n, Number.MAX_SAFE_INTEGER);
/** A selection resolved once, with its unsized lists assumed full. */
const once = (t: Totals) => capped(t.fixed + UNSIZED_LIST * t.perItem);

/**
 * The cost of an operation: every field (`__typename` too) counts 1 each time it is resolved. A
 * field's `first` argument (a literal, a variable, or the schema's default page size when omitted)
 * sizes the list it returns, or the lists directly inside the connection it returns (`edges`);
 * `_entities` is sized by its `representations`; any other list counts `UNSIZED_LIST` items, and
 * introspection lists (bounded by the schema and graphql-js's MaxIntrospectionDepthRule) count
 * one. A size of 0 counts as 1, so every field of the operation counts at least once: the cost
 * bounds the size of the operation with all its fragments expanded, which is what the gateway plans.
 */
export function estimateOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): OperationFigures {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const variableDefaults = new Map(operation.variableDefinitions?.map((v) => [v.variable.name.value, v.defaultValue]) ?? []);
  const mutationType = schema.getMutationType();
  const measured = new Map<string, Totals | 'measuring'>();

  /** The integer an argument was given (literal, variable or default), or undefined when unknown. */
  function intArgument(field: FieldNode, definition: GraphQLField<unknown, unknown>, name: string): number | undefined {
    const argument = definition.args.find((a) => a.name === name);
    if (!argument) return undefined;
    let value: unknown = argument.defaultValue;
    const node = field.arguments?.find((a) => a.name.value === name)?.value;
    if (node?.kind === Kind.INT) value = Number(node.value);
    else if (node?.kind === Kind.VARIABLE) {
      const variable = node.name.value;
      const fallback = variableDefaults.get(variable);
      if (variables[variable] != null) value = variables[variable];
      else if (!(variable in variables) && fallback?.kind === Kind.INT) value = Number(fallback.value);
    }
    return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
  }

  function listLength(field: FieldNode, name: string): number | undefined {
    const node = field.arguments?.find((a) => a.name.value === name)?.value;
    if (node?.kind === Kind.LIST) return node.values.length;
    if (node?.kind === Kind.VARIABLE) {
      const value = variables[node.name.value];
      return Array.isArray(value) ? value.length : undefined;
    }
    return undefined;
  }

  /** The number of items a field returns, when its arguments say. */
  function sizeOf(field: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined {
    return intArgument(field, definition, 'first') ?? listLength(field, 'representations');
  }

  function fieldDefinition(parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
    if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
    if (parent && parent === schema.getQueryType()) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  }

  function fragmentTotals(name: string): Totals {
    const known = measured.get(name);
    if (known === 'measuring') return ZERO; // a cycle: NoFragmentCyclesRule refuses the document
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment) return ZERO;
    measured.set(name, 'measuring');
    const totals = walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value));
    measured.set(name, totals);
    return totals;
  }

  function walk(selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined): Totals {
    const t = { ...ZERO };
    const add = (o: Totals) => {
      t.fixed = capped(t.fixed + o.fixed);
      t.perItem = capped(t.perItem + o.perItem);
      t.fields += o.fields;
      t.passwordChecks += o.passwordChecks;
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) add(fragmentTotals(selection.name.value));
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(walk(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent));
      } else {
        const definition = fieldDefinition(parent, selection.name.value);
        const sub = selection.selectionSet ? walk(selection.selectionSet, definition && getNamedType(definition.type)) : ZERO;
        const isList = definition !== undefined && isListType(getNullableType(definition.type));
        const size = parent && isIntrospectionType(parent) ? 1 : definition && sizeOf(selection, definition);
        const times = Math.max(1, size ?? UNSIZED_LIST);
        if (isList && size === undefined) add({ ...ZERO, fixed: 1, perItem: once(sub) }); // sized by the connection around it, if any
        else if (isList) add({ ...ZERO, fixed: capped(1 + times * once(sub)) });
        else add({ ...ZERO, fixed: capped(1 + sub.fixed + times * sub.perItem) });
        t.fields += 1;
        if (parent && parent === mutationType && PASSWORD_MUTATIONS.has(selection.name.value)) t.passwordChecks += 1;
      }
    }
    return t;
  }

  const root = walk(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
  return { cost: once(root), rootFields: root.fields, passwordChecks: root.passwordChecks };
}
