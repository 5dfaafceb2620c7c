// An operation with the fields the caller may not read taken out, before it is planned, with
// Apollo Router's semantics: each removed field answers null with an access error (reason
// UNAUTHORIZED_FIELD_OR_TYPE) at its path (`@` for the items of a list), and the rest of the operation is answered. A
// field is removed when its own rule or the rule of the type it returns denies the caller; a
// field whose selection is left empty is removed too (it answers null, the errors name what was
// denied inside it). Fragments are rewritten once each and their denials reused at every spread,
// so the work is linear in the document, like the operation limits.
import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  Kind,
  TypeNameMetaFieldDef,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { allows, type AccessRules, type Grants } from './rules.js';

/** One step from an object to a field of it: the response key, the field's type, and the type the selection applies to. */
export interface Step {
  key: string;
  type: GraphQLOutputType;
  /** The type condition the field was selected under (its parent type when selected directly). */
  on: string;
}

/** A field taken out of the operation: where it answers null, and whether it was denied (an error) or only left empty. */
export interface RemovedField {
  steps: readonly Step[];
  denied: boolean;
}

export interface AuthorizedOperation {
  /** The operation to plan: the original document when nothing was removed. */
  document: DocumentNode;
  removed: RemovedField[];
  /** Every root field was removed: there is nothing to plan. */
  empty: boolean;
  /** The operation selects a field some rule covers (whether or not this caller passes it): its answer depends on who asks. */
  ruled: boolean;
}

/** The path of an error for a removed field, as Router gives it: response keys, `@` for list items. */
export function errorPath(field: RemovedField): string[] {
  const path: string[] = [];
  for (const step of field.steps) {
    path.push(step.key);
    let type = step.type;
    for (;;) {
      if (isNonNullType(type)) type = type.ofType;
      else if ('ofType' in type) {
        path.push('@');
        type = type.ofType as GraphQLOutputType;
      } else break;
    }
  }
  // The last field's own list items are not a level of its error.
  while (path.at(-1) === '@') path.pop();
  return path;
}

interface Rewritten {
  selectionSet: SelectionSetNode | null;
  removed: RemovedField[];
}

const pathKey = (steps: readonly Step[]) => steps.map((s) => `${s.on}.${s.key}`).join('/');

/** The operation the caller may run, and what was removed from it. */
export function authorizeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rules: AccessRules,
  /** What the caller holds under one root field of the operation (a policy may depend on it: the account `login` answers is the caller's). */
  grants: (rootField: string) => Grants,
): AuthorizedOperation {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  // By root field and fragment name: a fragment spread under two root fields may be rewritten twice.
  const rewrittenFragments = new Map<string, Rewritten | 'rewriting'>();
  const allowedCache = new Map<string, boolean>();
  const grantsByRoot = new Map<string, Grants>();
  /** The root field being rewritten ('' for the root selection itself). */
  let rootField = '';
  let ruled = false;

  function allowed(parent: GraphQLCompositeType, definition: GraphQLField<unknown, unknown>): boolean {
    const coordinate = `${parent.name}.${definition.name}`;
    const key = `${rootField}\0${coordinate}`;
    let ok = allowedCache.get(key);
    if (ok === undefined) {
      let held = grantsByRoot.get(rootField);
      if (!held) grantsByRoot.set(rootField, (held = grants(rootField)));
      const returned = getNamedType(definition.type).name;
      if (rules.has(coordinate) || rules.has(returned) || rules.has(parent.name)) ruled = true;
      ok = allows(rules.get(coordinate), held) && allows(rules.get(returned), held) && allows(rules.get(parent.name), held);
      allowedCache.set(key, ok);
    }
    return ok;
  }

  /** The rewritten fragments, each under a name of its own (a fragment may be rewritten differently under two root fields). */
  const variants = new Map<string, FragmentDefinitionNode>();
  const variantOf = new Map<Rewritten, string>();

  function fragment(name: string, atRoot: boolean): Rewritten {
    const key = atRoot ? `\0\0${name}` : `${rootField}\0${name}`;
    const known = rewrittenFragments.get(key);
    if (known === 'rewriting') return { selectionSet: null, removed: [] }; // a cycle: validation refuses the document
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition) return { selectionSet: null, removed: [] };
    rewrittenFragments.set(key, 'rewriting');
    const type = schema.getType(definition.typeCondition.name.value) as GraphQLCompositeType;
    const result = rewrite(definition.selectionSet, type, atRoot);
    rewrittenFragments.set(key, result);
    if (result.selectionSet && result.selectionSet !== definition.selectionSet) {
      const variant = `${name}_authorized_${variants.size}`;
      variants.set(variant, { ...definition, name: { ...definition.name, value: variant }, selectionSet: result.selectionSet });
      variantOf.set(result, variant);
    }
    return result;
  }

  /** The selection set with what the caller may not read taken out (null when nothing is left). */
  function rewrite(selectionSet: SelectionSetNode, parent: GraphQLCompositeType, atRoot = false): Rewritten {
    const selections: SelectionNode[] = [];
    const removed = new Map<string, RemovedField>();
    const keep = (r: RemovedField) => {
      const key = pathKey(r.steps);
      if (!removed.get(key)?.denied) removed.set(key, r);
    };
    let changed = false;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const inner = fragment(selection.name.value, atRoot);
        for (const r of inner.removed) keep(r);
        const variant = variantOf.get(inner);
        if (!inner.selectionSet) changed = true;
        else if (variant) {
          changed = true;
          selections.push({ ...selection, name: { ...selection.name, value: variant } });
        } else selections.push(selection);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType) : parent;
        const inner = rewrite(selection.selectionSet, type, atRoot);
        for (const r of inner.removed) keep(r);
        if (inner.selectionSet !== selection.selectionSet) changed = true;
        if (inner.selectionSet) selections.push(inner.selectionSet === selection.selectionSet ? selection : { ...selection, selectionSet: inner.selectionSet });
        continue;
      }
      const definition = fieldDefinition(parent, selection);
      if (!definition) {
        selections.push(selection); // validation has accepted it: an introspection field
        continue;
      }
      const step: Step = { key: selection.alias?.value ?? selection.name.value, type: definition.type, on: parent.name };
      if (atRoot) rootField = selection.name.value;
      if (!allowed(parent, definition)) {
        keep({ steps: [step], denied: true });
        changed = true;
        continue;
      }
      if (!selection.selectionSet) {
        selections.push(selection);
        continue;
      }
      const inner = rewrite(selection.selectionSet, getNamedType(definition.type) as GraphQLCompositeType);
      for (const r of inner.removed) keep({ steps: [step, ...r.steps], denied: r.denied });
      if (inner.selectionSet === selection.selectionSet) selections.push(selection);
      else {
        changed = true;
        if (inner.selectionSet) selections.push({ ...selection, selectionSet: inner.selectionSet });
        else keep({ steps: [step], denied: false });
      }
    }
    if (!changed) return { selectionSet, removed: [...removed.values()] };
    return { selectionSet: selections.length > 0 ? { ...selectionSet, selections } : null, removed: [...removed.values()] };
  }

  function fieldDefinition(parent: GraphQLCompositeType, field: FieldNode): GraphQLField<unknown, unknown> | undefined {
    if (field.name.value === TypeNameMetaFieldDef.name) return undefined;
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[field.name.value] : undefined;
  }

  const root = schema.getRootType(operation.operation);
  if (!root) return { document, removed: [], empty: false, ruled };
  const result = rewrite(operation.selectionSet, root, true);
  if (result.removed.length === 0) return { document, removed: [], empty: false, ruled };
  if (!result.selectionSet) return { document, removed: result.removed, empty: true, ruled };

  // The operation and the fragments it still spreads (the originals, or their rewritten variants).
  const rewrittenOperation: OperationDefinitionNode = { ...operation, selectionSet: result.selectionSet };
  const used = new Map<string, FragmentDefinitionNode>();
  const collect = (node: SelectionSetNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const definition = variants.get(name) ?? fragments.get(name);
        if (used.has(name) || !definition) return;
        used.set(name, definition);
        collect(definition.selectionSet);
      },
    });
  collect(result.selectionSet);
  const definitions = [rewrittenOperation, ...used.values()];
  return { document: { kind: Kind.DOCUMENT, definitions }, removed: result.removed, empty: false, ruled };
}

type Data = Record<string, unknown>;

/**
 * Puts null where each removed field would have answered, in the data of the rewritten operation,
 * and lets a null for a non-null field reach its nearest nullable parent, as execution would have.
 * Returns the data (null when the null reached the root).
 */
export function answerRemovedFields(schema: GraphQLSchema, data: Data | null | undefined, removed: readonly RemovedField[]): Data | null {
  if (data === null) return null;
  const root: Data = data ?? {};
  const applies = (object: Data, on: string) => {
    const typename = object.__typename;
    if (typeof typename !== 'string' || typename === on) return true;
    const condition = schema.getType(on);
    const runtime = schema.getType(typename);
    return condition !== undefined && isAbstractType(condition) && isObjectType(runtime) && schema.isSubType(condition, runtime);
  };

  /** Sets the field at `steps[i]` of `object` (and below) to null; true when the null must go up to `object`'s parent. */
  function place(object: Data, steps: readonly Step[], i: number): boolean {
    const step = steps[i]!;
    if (!applies(object, step.on)) return false;
    if (i === steps.length - 1) {
      object[step.key] = null;
      return isNonNullType(step.type);
    }
    if (!(step.key in object)) return false; // skipped (@skip/@include), or answered nothing
    const up = descend(object[step.key], step.type, steps, i + 1);
    if (!up) return false;
    object[step.key] = null;
    return isNonNullType(step.type);
  }

  /** Goes into a value of `type` (lists item by item); true when the value must become null. */
  function descend(value: unknown, type: GraphQLOutputType, steps: readonly Step[], next: number): boolean {
    if (value === null || value === undefined) return false;
    const inner = isNonNullType(type) ? type.ofType : type;
    if ('ofType' in inner) {
      const item = inner.ofType as GraphQLOutputType;
      const items = value as unknown[];
      let up = false;
      items.forEach((v, index) => {
        if (!descend(v, item, steps, next)) return;
        if (isNonNullType(item)) up = true;
        else items[index] = null;
      });
      return up;
    }
    return place(value as Data, steps, next);
  }

  for (const field of removed) if (place(root, field.steps, 0)) return null;
  return root;
}
