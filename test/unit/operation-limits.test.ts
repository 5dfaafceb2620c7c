// The operation limits' arithmetic, on the real supergraph and subgraph schemas: what each figure
// counts, that repeated fragments are counted without walking them again, that a field's slicing
// arguments are given as @listSize requires, and that every client operation stays well inside the limits.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  buildSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  validate,
  specifiedRules,
  TypeNameMetaFieldDef,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, loadSubgraphConfig } from '../../lib/config.js';
import {
  checkOperation,
  countTokens,
  DEFAULT_OPERATION_LIMITS,
  estimateOperation,
  exceededBatchLimit,
  exceededLimit,
  limitParseOptions,
  limitRules,
  measureOperation,
  reportTokenLimit,
  subgraphLimits,
} from '../../lib/security/operation-limits.js';
import { costModelFromSupergraph, DEFAULT_ASSUMED_LIST_SIZE, useCostModel } from '../../lib/security/operation-cost.js';
import { ROOT, SUPERGRAPH_PATH, subgraphSchemaPath } from '../../lib/paths.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';
import { doublingFragments } from '../support/hostile-operations.js';

const supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
const api = apiSchemaOf(supergraphSdl);
// As the gateway does when it loads the supergraph (gateway/features/cost.ts).
const model = costModelFromSupergraph(supergraphSdl);
useCostModel(api, model);
const reviewsSchema = buildSubgraphSchema({ typeDefs: parse(readFileSync(subgraphSchemaPath('reviews'), 'utf8')) });

const figures = (query: string, variables: Record<string, unknown> = {}, schema = api) => measureOperation(schema, query, parse(query), variables);
const cost = (query: string, variables: Record<string, unknown> = {}, schema = api) => figures(query, variables, schema).cost;

/** A field's arguments as the executor reads them; none when a required one has no value (a stock delta not given: no size either). */
function argumentsOf(...[definition, node, values]: Parameters<typeof getArgumentValues>): Record<string, unknown> {
  try {
    return getArgumentValues(definition, node, values);
  } catch {
    return {};
  }
}

/**
 * The cost model written the plain way, as the reference for estimateOperation's linear one: every
 * fragment walked again at each spread, argument values as graphql-js's executor reads them. A
 * field weighs its @cost (1 without); a list sized by its slicing arguments (or `representations`)
 * holds that many items, one that a connection's `sizedFields` names as many as the connection's
 * slicing argument says, any other its `assumedSize` (the default without one); a size of 0 counts 1.
 */
function referenceCost(document: DocumentNode, variables: Record<string, unknown>): number {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  // Variables as the executor sees them: given, else their default; a required one not given (an
  // id, an input) gets a placeholder, since only sizes matter here. A page size not given leaves
  // `first` to its schema default, as the estimate does.
  const values: Record<string, unknown> = {};
  for (const v of operation.variableDefinitions ?? []) {
    const name = v.variable.name.value;
    if (name in variables) values[name] = variables[name];
    else if (v.defaultValue) values[name] = valueFromASTUntyped(v.defaultValue);
    else if (v.type.kind === Kind.NON_NULL_TYPE && !/\bInt\b/.test(JSON.stringify(v.type))) values[name] = 'placeholder';
  }
  const walk = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, connectionSize: number | undefined): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value)!;
        total += walk(fragment.selectionSet, api.getType(fragment.typeCondition.name.value) ?? undefined, connectionSize);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += walk(selection.selectionSet, selection.typeCondition ? (api.getType(selection.typeCondition.name.value) ?? undefined) : parent, connectionSize);
      } else {
        const definition =
          selection.name.value === '__typename' ? TypeNameMetaFieldDef : isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
        if (!definition) throw new Error(`unknown field ${selection.name.value}`);
        const coordinate = `${parent!.name}.${selection.name.value}`;
        const declared = model.fields.get(coordinate);
        const weight = declared?.weight ?? 1;
        const args = argumentsOf(definition, selection, values);
        const slices = (declared?.slicingArguments ?? []).map((a) => args[a]).filter((v): v is number => typeof v === 'number');
        const slice = slices.length > 0 ? Math.max(...slices) : Array.isArray(args.representations) ? args.representations.length : undefined;
        const type = getNamedType(definition.type);
        const items = (size: number | undefined) => (selection.selectionSet ? walk(selection.selectionSet, type, size) : 0);
        if (!isListType(getNullableType(definition.type))) total += weight + items(declared?.sizedFields && slice !== undefined ? Math.max(1, slice) : undefined);
        else {
          const assumed = Math.max(1, declared?.assumedSize ?? model.assumedListSize);
          const size = slice !== undefined ? Math.max(1, slice) : model.sizedByParent.has(coordinate) ? (connectionSize ?? assumed) : assumed;
          total += weight + size * items(undefined);
        }
      }
    }
    return total;
  };
  return walk(operation.selectionSet, api.getRootType(operation.operation) ?? undefined, undefined);
}

describe('the cost estimate', () => {
  it('counts every field once per time it is resolved, a page of `first` items for a connection', () => {
    // products, totalCount, edges, then 3 × (node, id)
    expect(cost('{ products(first: 3) { totalCount edges { node { id } } } }')).toBe(1 + 1 + 1 + 3 * 2);
    expect(cost('{ __typename }')).toBe(1);
  });

  it('reads `first` from a variable, from the variable default, and from the schema default when omitted', () => {
    const page = (first: string) => `query($n: Int) { products${first} { edges { node { id } } } }`;
    expect(cost(page('(first: $n)'), { n: 100 })).toBe(2 + 100 * 2);
    expect(cost('query($n: Int = 7) { products(first: $n) { edges { node { id } } } }')).toBe(2 + 7 * 2);
    expect(cost(page(''))).toBe(2 + 20 * 2); // products(first: Int = 20)
    expect(cost(page('(first: $n)'), { n: null })).toBe(2 + 20 * 2); // null gives the resolver's default
    expect(cost(page('(first: $n)'))).toBe(2 + 20 * 2); // an absent variable leaves the argument out
    expect(cost('{ product(id: "1") { reviews { edges { node { id } } } } }')).toBe(1 + 1 + 1 + 10 * 2); // reviews(first: Int = 10)
  });

  it('multiplies nested pages, and counts a page of 0 as 1 so that every field counts', () => {
    const nested = '{ products(first: 100) { edges { node { reviews(first: 100) { edges { node { author { name } } } } } } } }';
    expect(cost(nested)).toBe(2 + 100 * (1 + 1 + 1 + 100 * 3));
    expect(cost('{ products(first: 0) { edges { node { id name } } } }')).toBe(2 + 1 * 3);
  });

  it("sizes a list without a slicing argument by its @listSize's assumedSize, and weighs a field by its @cost", () => {
    expect(cost('{ categories { id name } }')).toBe(1 + 20 * 2); // categories @listSize(assumedSize: 20)
    expect(cost('{ order(id: "1") { items { quantity } } }')).toBe(1 + 1 + 50 * 1); // items @listSize(assumedSize: 50)
    expect(cost('mutation { login(email: "a", password: "b") { token } }')).toBe(10 + 1); // login @cost(weight: 10)
  });

  it('assumes the configured size for a list that declares none, and reads the directives from a subgraph schema too', () => {
    const sdl = 'type Query { shelves: [Shelf!]! books(limit: Int = 5): [Book!]! @listSize(slicingArguments: ["limit"]) } type Shelf { books: [Book!]! } type Book { title: String @cost(weight: 3) }';
    const bare = costModelFromSupergraph(`directive @cost(weight: Int!) on FIELD_DEFINITION\ndirective @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION\n${sdl}`, 7);
    const schema = buildSubgraphSchema({ typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@cost", "@listSize"])\n${sdl}`) });
    const query = parse('{ shelves { books { title } } books(limit: 2) { title } }');
    const operation = query.definitions[0] as OperationDefinitionNode;
    // shelves 1 + 7 × (books 1 + 7 × title 3), then books 1 + 2 × 3
    expect(estimateOperation(schema, query, operation, {}, bare).cost).toBe(1 + 7 * (1 + 7 * 3) + 1 + 2 * 3);
    // The subgraph's own schema, at the default assumed size.
    const d = DEFAULT_ASSUMED_LIST_SIZE;
    expect(estimateOperation(schema, query, operation).cost).toBe(1 + d * (1 + d * 3) + 1 + 2 * 3);
  });

  it('requires exactly one slicing argument with a value where @listSize says so (its default), naming the field and its arguments', () => {
    const directives = 'directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION';
    const sdl = (any: string) =>
      `${directives}\ntype Query { books(first: Int, last: Int): [Book!]! @listSize(slicingArguments: ["first", "last"]) shelf(size: Int = 5): [Book!]! @listSize(slicingArguments: ["size"]) any(first: Int, last: Int): [Book!]! @listSize(slicingArguments: ["first", "last"]${any}) } type Book { title: String }`;
    const lenient = buildSubgraphSchema({ typeDefs: parse(sdl(', requireOneSlicingArgument: false').replace(directives, 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@listSize"])')) });
    const model = costModelFromSupergraph(sdl(', requireOneSlicingArgument: false'));
    const estimate = (query: string, variables: Record<string, unknown> = {}) => {
      const document = parse(query);
      return estimateOperation(lenient, document, document.definitions[0] as OperationDefinitionNode, variables, model).cost;
    };
    const refusal = (query: string, variables: Record<string, unknown> = {}) => {
      try {
        estimate(query, variables);
      } catch (err) {
        return [(err as GraphQLError).extensions.code, (err as GraphQLError).message];
      }
      return undefined;
    };
    expect(estimate('{ books(first: 3) { title } }')).toBe(1 + 3);
    expect(estimate('query($n: Int) { books(last: $n) { title } }', { n: 4 })).toBe(1 + 4);
    expect(estimate('{ shelf { title } }')).toBe(1 + 5); // the default is the one value
    expect(estimate('{ shelf(size: null) { title } }')).toBe(1 + 5);
    // A mistyped variable leaves the default too: coercion refuses it afterwards, with its own message.
    expect(estimate('query($n: Int) { shelf(size: $n) { title } }', { n: 'ten' })).toBe(1 + 5);
    expect(refusal('{ books { title } }')).toEqual(['GRAPHQL_VALIDATION_FAILED', 'Query.books must be given exactly one of its slicing arguments (first, last), found none.']);
    expect(refusal('{ books(first: 2, last: 3) { title } }')).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
      'Query.books must be given exactly one of its slicing arguments (first, last), found 2 (first, last).',
    ]);
    // A variable given null (or not given) is no value.
    expect(refusal('query($n: Int) { books(first: $n) { title } }', { n: null })?.[1]).toMatch(/found none/);
    expect(refusal('query($n: Int) { books(first: $n) { title } }')?.[1]).toMatch(/found none/);
    // requireOneSlicingArgument: false sizes by the largest, or the assumed size without any.
    expect(estimate('{ any(first: 2, last: 3) { title } }')).toBe(1 + 3);
    expect(estimate('{ any { title } }')).toBe(1 + model.assumedListSize);
    // The subgraph reads the same rule from its own schema (the default, true, where the directive does not say).
    const strict = buildSubgraphSchema({ typeDefs: parse(sdl('').replace(directives, 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@listSize"])')) });
    const document = parse('{ any(first: 2, last: 3) { title } }');
    expect(() => estimateOperation(strict, document, document.definitions[0] as OperationDefinitionNode)).toThrow('Query.any must be given exactly one of its slicing arguments (first, last), found 2 (first, last).');
  });

  it('every field of the graph that declares slicing arguments declares one, with a default, so a client may leave it out', () => {
    const slicing = [...model.fields].filter(([, cost]) => cost.slicingArguments).map(([coordinate, cost]) => [coordinate, cost.slicingArguments!.join(', ')]);
    expect(slicing.sort()).toEqual([
      ['Category.products', 'first'],
      ['Product.reviews', 'first'],
      ['Query.products', 'first'],
      ['Query.staleReservations', 'first'],
      ['User.orders', 'first'],
      ['User.reviews', 'first'],
    ]);
    for (const [coordinate, argument] of slicing) {
      const [type, field] = coordinate!.split('.');
      const definition = buildSchema(supergraphSdl, { assumeValidSDL: true }).getType(type!) as GraphQLObjectType;
      expect(definition.getFields()[field!]!.args.find((a) => a.name === argument)?.defaultValue, coordinate).toEqual(expect.any(Number));
    }
  });

  it('sizes `_entities` by its representations, given as a variable or inline', () => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { reviews(first: 5) { edges { node { id } } } } } }';
    const reps = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Product', id: String(i) }));
    expect(cost(query, { r: reps(40) }, reviewsSchema)).toBe(1 + 40 * (1 + 1 + 5 * 2));
    expect(cost('{ _entities(representations: [{__typename: "Product", id: "1"}, {__typename: "Product", id: "2"}]) { __typename } }', {}, reviewsSchema)).toBe(
      1 + 2 * 1,
    );
  });

  it('counts a fragment at every spread, and a doubling chain of 40 fragments as 2^39 fields without walking them', () => {
    expect(cost('{ ...Q ...Q } fragment Q on Query { products(first: 2) { edges { node { id } } } }')).toBe(2 * (2 + 2 * 2));
    expect(cost(doublingFragments(40))).toBe(2 ** 39);
    expect(cost(doublingFragments(200))).toBe(Number.MAX_SAFE_INTEGER); // capped, still over any limit
  });

  it('lets Apollo Sandbox introspect: its lists are bounded by the schema and by graphql-js', () => {
    const query = getIntrospectionQuery();
    expect(validate(api, parse(query), [...specifiedRules, ...limitRules(DEFAULT_OPERATION_LIMITS)])).toEqual([]);
    expect(cost(query)).toBeLessThan(1_000);
  });
});

describe('the other figures', () => {
  it('count depth through fragments (a fragment is no level of its own), and stop at fragment cycles', () => {
    expect(figures('{ products { edges { node { id } } } }').depth).toBe(4);
    expect(figures('{ products { ...C } } fragment C on ProductConnection { edges { node { id } } }').depth).toBe(4);
    const cyclic = '{ product(id: "1") { ...F } } fragment F on Product { category { products { edges { node { ...F } } } } }';
    expect(validate(api, parse(cyclic), [...specifiedRules, ...limitRules(DEFAULT_OPERATION_LIMITS)]).map((e) => e.message)).toEqual([
      'Cannot spread fragment "F" within itself.',
    ]);
  });

  it('count aliases and root fields at every spread', () => {
    const query = '{ ...Q a: __typename } fragment Q on Query { x: categories { id } y: product(id: "1") { z: id } }';
    expect(figures(query)).toMatchObject({ aliases: 2 * 1 + 1, rootFields: 3 });
    expect(figures('{ ...Q ...R } fragment Q on Query { x: categories { id } } fragment R on Query { ...Q }').aliases).toBe(2);
  });

  it('count every login and register, aliased or in fragments', () => {
    const login = (alias: string) => `${alias}: login(email: "a@example.com", password: "pw-123456") { token }`;
    expect(figures(`mutation { ${login('a')} }`).passwordChecks).toBe(1);
    expect(figures(`mutation { ${login('a')} ${login('b')} }`).passwordChecks).toBe(2);
    expect(figures(`mutation { ...L ...L } fragment L on Mutation { ${login('a')} }`).passwordChecks).toBe(2);
    expect(figures(`mutation { ${login('a')} register(input: { email: "b@example.com", password: "pw-123456", name: "B" }) { token } }`).passwordChecks).toBe(2);
  });

  it('are measured once per fragment even when the document also has a fragment cycle', () => {
    const query = `${doublingFragments(40)} fragment Loop on Query { ...Loop2 } fragment Loop2 on Query { ...Loop ...F0 }`;
    const errors = validate(api, parse(query), [...specifiedRules, ...limitRules(DEFAULT_OPERATION_LIMITS)]);
    expect(errors.map((e) => e.message)).toContain('Cannot spread fragment "Loop" within itself via "Loop2".');
  });
});

describe('the limits', () => {
  it('name the limit and the figure', () => {
    const ok = { cost: 10, rootFields: 1, passwordChecks: 1 };
    expect(exceededLimit(ok, DEFAULT_OPERATION_LIMITS)).toBeUndefined();
    expect(exceededLimit({ ...ok, cost: 1_234_567 }, DEFAULT_OPERATION_LIMITS)).toBe('Query cost limit of 200000 exceeded, found 1234567.');
    expect(exceededLimit({ ...ok, rootFields: 21 }, DEFAULT_OPERATION_LIMITS)).toBe('Root fields limit of 20 exceeded, found 21.');
    expect(exceededLimit({ ...ok, passwordChecks: 2 }, DEFAULT_OPERATION_LIMITS)).toBe('Login and register limit of 1 per operation exceeded, found 2.');
  });

  it('sum cost and password checks over a batch, naming the limit and the sum', () => {
    const query = { cost: 150_000, rootFields: 1, passwordChecks: 0 };
    const login = { cost: 5, rootFields: 1, passwordChecks: 1 };
    expect(exceededBatchLimit([query, login], DEFAULT_OPERATION_LIMITS)).toBeUndefined();
    expect(exceededBatchLimit([query, query], DEFAULT_OPERATION_LIMITS)).toBe('Query cost limit of 200000 per batch exceeded, found 300000 summed over 2 operations.');
    expect(exceededBatchLimit([login, query, login], DEFAULT_OPERATION_LIMITS)).toBe('Login and register limit of 1 per batch exceeded, found 2.');
    expect(exceededBatchLimit([], DEFAULT_OPERATION_LIMITS)).toBeUndefined();
  });

  it('checkOperation parses, validates, selects the operation and measures it, or says what is wrong as Apollo Server would', () => {
    const query = 'query A { categories { name } } query B($n: Int) { products(first: $n) { edges { node { id ... @defer { name } } } } }';
    const checked = checkOperation(api, DEFAULT_OPERATION_LIMITS, query, 'B', { n: 5 });
    if ('errors' in checked) throw new Error(checked.errors[0]!.message);
    expect(checked.operation.name?.value).toBe('B');
    // The deferred fragment counts: products, edges and 5 × (node, id, name).
    expect(checked.figures).toEqual(estimateOperation(api, checked.document, checked.operation, { n: 5 }));
    expect(checked.figures.cost).toBe(cost('{ products(first: 5) { edges { node { id name } } } }'));
    const codes = (result: ReturnType<typeof checkOperation>) => ('errors' in result ? result.errors.map((e) => [e.extensions.code, e.message]) : []);
    expect(codes(checkOperation(api, DEFAULT_OPERATION_LIMITS, '{ categories {', undefined, {}))[0]![0]).toBe('GRAPHQL_PARSE_FAILED');
    expect(codes(checkOperation(api, DEFAULT_OPERATION_LIMITS, '{ colour }', undefined, {}))).toEqual([['GRAPHQL_VALIDATION_FAILED', 'Cannot query field "colour" on type "Query".']]);
    expect(codes(checkOperation(api, DEFAULT_OPERATION_LIMITS, query, undefined, {}))).toEqual([['BAD_REQUEST', 'name the operation to run with "operationName"']]);
    expect(codes(checkOperation(api, DEFAULT_OPERATION_LIMITS, query, 'C', {}))).toEqual([['BAD_REQUEST', 'no operation named "C" in the document']]);
    expect(codes(checkOperation(api, { ...DEFAULT_OPERATION_LIMITS, depth: 2 }, query, 'B', {}))[0]![0]).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('report the token limit, where graphql-js stops parsing, like the others', () => {
    const query = `{ ${'__typename '.repeat(10)}}`;
    let message = '';
    try {
      parse(query, limitParseOptions({ ...DEFAULT_OPERATION_LIMITS, tokens: 5 }));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(reportTokenLimit({ message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })).toEqual({
      message: 'Token limit of 5 exceeded.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(countTokens(query)).toBe(12);
    const other = { message: 'Syntax Error: Expected Name, found <EOF>.', extensions: { code: 'GRAPHQL_PARSE_FAILED' } };
    expect(reportTokenLimit(other)).toBe(other);
  });

  it('are read from the environment, and a subgraph derives its own from them', () => {
    const env = { MAX_DEPTH: '8', MAX_ALIASES: '5', MAX_ROOT_FIELDS: '4', MAX_DIRECTIVES: '3', MAX_TOKENS: '900', MAX_COST: '1000' };
    const limits = { depth: 8, aliases: 5, rootFields: 4, directives: 3, tokens: 900, cost: 1000 };
    expect(loadGatewayConfig(env).limits).toEqual(limits);
    expect(loadSubgraphConfig('users', env).limits).toEqual(limits);
    expect(loadGatewayConfig({}).limits).toEqual(DEFAULT_OPERATION_LIMITS);
    expect(subgraphLimits(limits)).toEqual({ depth: 10, aliases: 10, rootFields: 4, directives: 6, tokens: 9000, cost: 4000 });
    expect(() => loadGatewayConfig({ MAX_COST: 'lots' })).toThrow(/MAX_COST/);
    expect(() => loadSubgraphConfig('catalog', { MAX_DEPTH: '0' })).toThrow(/MAX_DEPTH/);
  });
});

describe('the client operations (operations/)', () => {
  const dir = path.join(ROOT, 'operations');
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((client) => readdirSync(path.join(dir, client.name)).map((file) => `${client.name}/${file}`))
    .filter((file) => file.endsWith('.graphql'));

  it('are all measured (web, mobile, admin)', () => {
    expect(new Set(files.map((f) => f.split('/')[0]))).toEqual(new Set(['web', 'mobile', 'admin']));
  });

  it('each stay below half of every limit, even at the largest page (100) for every page-size variable', () => {
    const limits = DEFAULT_OPERATION_LIMITS;
    const rows = files.map((file) => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const operation = parse(text).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      // Every Int variable of these operations is a page size; clients may ask for up to 100.
      const largest = Object.fromEntries(
        (operation.variableDefinitions ?? []).filter((v) => /\bInt\b/.test(JSON.stringify(v.type))).map((v) => [v.variable.name.value, 100]),
      );
      // Estimated (so given exactly one slicing argument wherever @listSize asks) with page sizes
      // left out, at their largest and sent as null.
      const usual = figures(text);
      const worst = figures(text, largest);
      expect(() => figures(text, Object.fromEntries(Object.keys(largest).map((name) => [name, null]))), file).not.toThrow();
      // The linear estimate agrees with the plain reference, at the usual and at the largest pages.
      expect(estimateOperation(api, parse(text), operation, largest).cost, file).toBe(referenceCost(parse(text), largest));
      expect(usual.cost, file).toBe(referenceCost(parse(text), {}));
      return { operation: file, tokens: usual.tokens, depth: usual.depth, aliases: usual.aliases, directives: usual.directives, rootFields: usual.rootFields, cost: usual.cost, 'cost at 100': worst.cost, passwordChecks: usual.passwordChecks };
    });
    console.table(rows);
    console.log('limits', limits);
    for (const row of rows) {
      expect.soft(row.tokens, row.operation).toBeLessThan(limits.tokens / 2);
      expect.soft(row.depth, row.operation).toBeLessThanOrEqual(limits.depth - 5); // levels are few: Me nests 7 of 12
      expect.soft(row.aliases, row.operation).toBeLessThan(limits.aliases / 2);
      expect.soft(row.directives, row.operation).toBeLessThan(limits.directives / 2);
      expect.soft(row.rootFields, row.operation).toBeLessThan(limits.rootFields / 2);
      expect.soft(row['cost at 100'], row.operation).toBeLessThan(limits.cost / 2);
      expect.soft(row.passwordChecks, row.operation).toBeLessThanOrEqual(1);
    }
  });
});
