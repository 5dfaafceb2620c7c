// What the schema says about cost: `@cost(weight:)` and `@listSize(assumedSize:, slicingArguments:,
// sizedFields:, requireOneSlicingArgument:)`, federation 2.9's cost directives (IBM's GraphQL cost
// specification, as Apollo Router applies them), read by the cost estimate (operation-cost.ts).
// A subgraph reads them from its own schema's definitions; the gateway, whose API schema carries
// no directives, from the composed supergraph (`useCostModel`, when it loads one).
import { Kind, parse, type ConstDirectiveNode, type DocumentNode, type GraphQLSchema, isInterfaceType, isObjectType } from 'graphql';

/**
 * The size assumed for a list that declares none (no slicing argument given, no `assumedSize`).
 * Every list of this graph declares one; the default prices another graph's lists as Apollo
 * Router's examples do (`list_size: 10`): a guess, set with COST_ASSUMED_LIST_SIZE at the gateway.
 */
export const DEFAULT_ASSUMED_LIST_SIZE = 10;

export interface FieldCost {
  weight?: number;
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
  requireOneSlicingArgument?: boolean;
}

export interface CostModel {
  /** By coordinate, `Type.field`. */
  fields: ReadonlyMap<string, FieldCost>;
  /** Lists some field sizes through its `sizedFields` (`ProductConnection.edges`). */
  sizedByParent: ReadonlySet<string>;
  assumedListSize: number;
}

const COST = new Set(['cost', 'cost__cost', 'federation__cost']);
const LIST_SIZE = new Set(['listSize', 'cost__listSize', 'federation__listSize']);

function argument(directive: ConstDirectiveNode, name: string) {
  return directive.arguments?.find((a) => a.name.value === name)?.value;
}
const int = (d: ConstDirectiveNode, name: string) => {
  const v = argument(d, name);
  return v?.kind === Kind.INT ? Number(v.value) : undefined;
};
const strings = (d: ConstDirectiveNode, name: string) => {
  const v = argument(d, name);
  if (v?.kind === Kind.STRING) return [v.value];
  return v?.kind === Kind.LIST ? v.values.flatMap((s) => (s.kind === Kind.STRING ? [s.value] : [])) : undefined;
};

function fieldCost(directives: readonly ConstDirectiveNode[] | undefined): FieldCost | undefined {
  let cost: FieldCost | undefined;
  for (const d of directives ?? []) {
    if (COST.has(d.name.value)) (cost ??= {}).weight = int(d, 'weight');
    else if (LIST_SIZE.has(d.name.value)) {
      cost ??= {};
      cost.assumedSize = int(d, 'assumedSize');
      cost.slicingArguments = strings(d, 'slicingArguments');
      cost.sizedFields = strings(d, 'sizedFields');
      const require = argument(d, 'requireOneSlicingArgument');
      cost.requireOneSlicingArgument = require?.kind === Kind.BOOLEAN ? require.value : true;
    }
  }
  return cost;
}

/** The model of the fields given as (type, field, directives, return type name). */
function modelOf(entries: Iterable<[string, string, readonly ConstDirectiveNode[] | undefined, string]>, assumedListSize: number): CostModel {
  const fields = new Map<string, FieldCost>();
  const returns = new Map<string, string>();
  for (const [type, field, directives, returned] of entries) {
    const cost = fieldCost(directives);
    if (cost) fields.set(`${type}.${field}`, cost);
    returns.set(`${type}.${field}`, returned);
  }
  const sizedByParent = new Set<string>();
  for (const [coordinate, cost] of fields) {
    for (const sized of cost.sizedFields ?? []) sizedByParent.add(`${returns.get(coordinate)}.${sized}`);
  }
  return { fields, sizedByParent, assumedListSize };
}

/** The cost model a composed supergraph (or any SDL) declares. */
export function costModelFromSupergraph(sdl: string | DocumentNode, assumedListSize = DEFAULT_ASSUMED_LIST_SIZE): CostModel {
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  function* entries(): Generator<[string, string, readonly ConstDirectiveNode[] | undefined, string]> {
    for (const d of document.definitions) {
      if (d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.INTERFACE_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      for (const f of d.fields ?? []) {
        let type = f.type;
        while (type.kind !== Kind.NAMED_TYPE) type = type.type;
        yield [d.name.value, f.name.value, f.directives, type.name.value];
      }
    }
  }
  return modelOf(entries(), assumedListSize);
}

const models = new WeakMap<GraphQLSchema, CostModel>();

/** The gateway's API schema is priced with the supergraph's model (its own definitions carry no directives). */
export function useCostModel(schema: GraphQLSchema, model: CostModel): void {
  models.set(schema, model);
}

/** The cost model of a schema: the one given with `useCostModel`, else read from its definitions (a subgraph's). */
export function costModelOf(schema: GraphQLSchema): CostModel {
  let model = models.get(schema);
  if (model) return model;
  function* entries(): Generator<[string, string, readonly ConstDirectiveNode[] | undefined, string]> {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        let named = field.type;
        while ('ofType' in named) named = named.ofType;
        yield [type.name, field.name, field.astNode?.directives, named.name];
      }
    }
  }
  model = modelOf(entries(), DEFAULT_ASSUMED_LIST_SIZE);
  models.set(schema, model);
  return model;
}
