// The cost estimate of an operation (see `estimateOperation`) from the schema's @cost and @listSize,
// and the figures beside it that depend on the variables: root fields and password checks. Linear in the size of the document:
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
import { operationRefused } from '../errors.js';
import { costModelOf, type CostModel } from './cost-model.js';

export { DEFAULT_ASSUMED_LIST_SIZE, costModelOf, costModelFromSupergraph, useCostModel, type CostModel } from './cost-model.js';
/** Mutations that hash a password (scrypt, slow on purpose): one per operation, or they amplify password guessing. */
const PASSWORD_MUTATIONS = new Set(['login', 'register']);
export const MAX_PASSWORD_CHECKS = 1;

export interface OperationFigures {
  cost: number;
  rootFields: number;
  passwordChecks: number;
}

/** The figures of a selection set, for the selection's parent resolved once. */
interface Totals {
  /** Fields resolved (weighted), except what `perItem` counts. */
  fixed: number;
  /** Per item of the lists directly in this selection that the field around them sizes (a connection's `edges`, by its `sizedFields`). */
  perItem: number;
  /** Those lists at their own assumed size, when the field around them gives none. */
  fallback: number;
  /** Fields directly in this selection (through fragments): the root fields when it is the operation's. */
  fields: number;
  /** `login`/`register` directly in this selection. */
  passwordChecks: number;
}

const ZERO: Totals = { fixed: 0, perItem: 0, fallback: 0, fields: 0, passwordChecks: 0 };
/** Keeps huge estimates finite and exact enough to print. */
const capped = (n: number) => Math.min(n, Number.MAX_SAFE_INTEGER);
/** A selection resolved once, with the lists a connection would size at their own assumed size. */
const once = (t: Totals) => capped(t.fixed + t.fallback);

/**
 * The cost of an operation, from the schema's `@cost` and `@listSize` (federation 2.9, IBM's
 * GraphQL cost specification; cost-model.ts): every field (`__typename` too) counts its `@cost`
 * weight, 1 without one, each time it is resolved. A list's size is the value of its
 * `slicingArguments` (a literal, a variable, or the argument's default; the largest when several
 * are given), else its `assumedSize`, else the model's assumed size for lists that declare none;
 * a field's slicing size also sizes the lists directly inside what it returns that its
 * `sizedFields` name (a connection's `edges`). `_entities` is sized by its `representations`, and
 * introspection lists (bounded by the schema and graphql-js's MaxIntrospectionDepthRule) count
 * one. A size of 0 counts as 1, so every field of the operation counts at least once: the cost
 * bounds the size of the operation with all its fragments expanded, which is what the gateway plans.
 */
export function estimateOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
  model: CostModel = costModelOf(schema),
): OperationFigures {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const variableDefaults = new Map(operation.variableDefinitions?.map((v) => [v.variable.name.value, v.defaultValue]) ?? []);
  const mutationType = schema.getMutationType();
  const measured = new Map<string, Totals | 'measuring'>();

  /**
   * The integer an argument was given (literal, variable or default), or undefined when it has none.
   * A value that is no integer (null, or a mistyped variable that coercion refuses after this) leaves
   * the argument's default, as Apollo Router reads slicing arguments.
   */
  function intArgument(field: FieldNode, definition: GraphQLField<unknown, unknown>, name: string): number | undefined {
    const argument = definition.args.find((a) => a.name === name);
    if (!argument) return undefined;
    let value: unknown;
    const node = field.arguments?.find((a) => a.name.value === name)?.value;
    if (node?.kind === Kind.INT) value = Number(node.value);
    else if (node?.kind === Kind.VARIABLE) {
      const variable = node.name.value;
      const fallback = variableDefaults.get(variable);
      if (variables[variable] != null) value = variables[variable];
      else if (!(variable in variables) && fallback?.kind === Kind.INT) value = Number(fallback.value);
    }
    if (!Number.isSafeInteger(value)) value = argument.defaultValue;
    return Number.isSafeInteger(value) ? (value as number) : undefined;
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

  /**
   * The size its slicing arguments (or `representations`, for `_entities`) give a field, when they do.
   * Under `requireOneSlicingArgument` (true unless the schema says false) exactly one of them must
   * have a value, as Apollo Router requires: given (a number, a list, or a variable holding one)
   * or, when not given or given null, the argument's default. Else the operation is refused before
   * anything is planned: its size would be a guess.
   */
  function sliceOf(field: FieldNode, definition: GraphQLField<unknown, unknown>, coordinate: string): number | undefined {
    const declared = model.fields.get(coordinate);
    const slicing = (declared?.slicingArguments ?? []).filter((name) => definition.args.some((a) => a.name === name));
    const valued: string[] = [];
    let size: number | undefined;
    for (const name of slicing) {
      const value = intArgument(field, definition, name) ?? listLength(field, name);
      if (value === undefined) continue;
      valued.push(name);
      if (value >= 0) size = Math.max(size ?? 0, value);
    }
    if (slicing.length > 0 && declared?.requireOneSlicingArgument !== false && valued.length !== 1) {
      const found = valued.length === 0 ? 'none' : `${valued.length} (${valued.join(', ')})`;
      throw operationRefused(`${coordinate} must be given exactly one of its slicing arguments (${slicing.join(', ')}), found ${found}.`, [field]);
    }
    return size ?? (definition.name === '_entities' ? listLength(field, 'representations') : undefined);
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
      t.fallback = capped(t.fallback + o.fallback);
      t.fields += o.fields;
      t.passwordChecks += o.passwordChecks;
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) add(fragmentTotals(selection.name.value));
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(walk(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent));
      } else {
        const definition = fieldDefinition(parent, selection.name.value);
        const coordinate = `${parent?.name ?? ''}.${selection.name.value}`;
        const declared = model.fields.get(coordinate);
        const weight = declared?.weight ?? 1;
        const sub = selection.selectionSet ? walk(selection.selectionSet, definition && getNamedType(definition.type)) : ZERO;
        const isList = definition !== undefined && isListType(getNullableType(definition.type));
        const slice = parent && isIntrospectionType(parent) ? 1 : definition && sliceOf(selection, definition, coordinate);
        const assumed = declared?.assumedSize ?? model.assumedListSize;
        if (isList && slice === undefined && model.sizedByParent.has(coordinate)) {
          // Sized by the field around it (its sizedFields), or at its own assumed size.
          add({ ...ZERO, fixed: weight, perItem: once(sub), fallback: capped(Math.max(1, assumed) * once(sub)) });
        } else if (isList) add({ ...ZERO, fixed: capped(weight + Math.max(1, slice ?? assumed) * once(sub)) });
        else if (slice !== undefined && declared?.sizedFields) add({ ...ZERO, fixed: capped(weight + sub.fixed + Math.max(1, slice) * sub.perItem) });
        else add({ ...ZERO, fixed: capped(weight + once(sub)) });
        t.fields += 1;
        if (parent && parent === mutationType && PASSWORD_MUTATIONS.has(selection.name.value)) t.passwordChecks += 1;
      }
    }
    return t;
  }

  const root = walk(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
  return { cost: once(root), rootFields: root.fields, passwordChecks: root.passwordChecks };
}

/**
 * The cost an answer actually had, by the same weights as the estimate: each field in the data
 * counts its weight, lists by the items they hold. Compared with the estimate, it says how far
 * the schema's sizes are from the data (metrics, usage and the response extension at the gateway).
 */
export function actualCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  data: Readonly<Record<string, unknown>> | null | undefined,
  model: CostModel = costModelOf(schema),
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const applies = (object: Record<string, unknown>, condition: string | undefined) =>
    condition === undefined || typeof object.__typename !== 'string' || object.__typename === condition || !isObjectType(schema.getType(condition));

  function ofValue(value: unknown, selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined): number {
    if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + ofValue(item, selectionSet, type), 0);
    if (value === null || typeof value !== 'object') return 0;
    return ofObject(value as Record<string, unknown>, selectionSet, type);
  }

  function ofObject(object: Record<string, unknown>, selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment && applies(object, fragment.typeCondition.name.value)) total += ofObject(object, fragment.selectionSet, schema.getType(fragment.typeCondition.name.value));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(object, selection.typeCondition?.name.value)) {
          total += ofObject(object, selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent);
        }
      } else {
        const key = selection.alias?.value ?? selection.name.value;
        if (!(key in object)) continue;
        total += model.fields.get(`${parent?.name ?? ''}.${selection.name.value}`)?.weight ?? 1;
        if (selection.selectionSet) {
          const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
          total += ofValue(object[key], selection.selectionSet, definition && getNamedType(definition.type));
        }
      }
    }
    return capped(total);
  }

  if (!data) return 0;
  return ofObject(data as Record<string, unknown>, operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
}
