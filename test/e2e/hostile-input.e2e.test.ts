// Hostile input, generated from the schemas: every argument of every field of the public graph
// (sent through the gateway) and of each subgraph's own schema (sent to that subgraph directly)
// gets NUL bytes, malformed ids, oversize and malformed text, forged cursors, numbers at and beyond
// their bounds and values of the wrong type; every subgraph gets forged entity representations.
// Each must be refused as a client error (never INTERNAL_SERVER_ERROR, never HTTP 500), change
// nothing in any of the four databases, and leave every service answering. A field added later is
// covered by the same rules without touching this file (an Int argument must declare its bounds).
// Malformed batches (JSON arrays of operations) get the same treatment, at a gateway that accepts
// batches and at every subgraph, which never does.
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../lib/subgraph/connection.js';
import { MAX_TEXT_LENGTH } from '../../lib/security/input-guard.js';
import { SUPERGRAPH_PATH, subgraphSchemaPath } from '../../lib/paths.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';
import { SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { bearer, describeOnBackends, graphql, newProduct, operation, send, sendBatch, serviceToken, snapshot, startStack, type Stack } from '../support/harness.js';

// ---------------------------------------------------------------------------------------------
// The schemas under attack

type TargetName = 'gateway' | ServiceName;
interface Target {
  name: TargetName;
  schema: GraphQLSchema;
}

const apiSchema = apiSchemaOf(readFileSync(SUPERGRAPH_PATH, 'utf8'));
const TARGETS: Target[] = [
  { name: 'gateway', schema: apiSchema },
  ...SERVICE_NAMES.map((name) => ({ name, schema: buildSubgraphSchema({ typeDefs: parse(readFileSync(subgraphSchemaPath(name), 'utf8')) }) })),
];

/** A subgraph root field the public graph does not have is internal: only the orders service may call it. */
const isInternal = (target: Target, parent: GraphQLObjectType, field: string) =>
  target.name !== 'gateway' && isRootType(target.schema, parent) && !rootTypeOf(apiSchema, parent.name)?.getFields()[field];

const rootTypes = (schema: GraphQLSchema) => [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => !!t);
const isRootType = (schema: GraphQLSchema, type: GraphQLObjectType) => rootTypes(schema).includes(type);
const rootTypeOf = (schema: GraphQLSchema, name: string) => rootTypes(schema).find((t) => t.name === name);

/**
 * Every field that takes arguments (except `_entities`, attacked with representations below), but
 * not the subscription fields: they are sent over graphql-ws, where test/e2e/subscriptions.e2e.test.ts
 * sends them bad input (the same input guard checks them).
 */
function argumentFields(schema: GraphQLSchema): { parent: GraphQLObjectType; field: GraphQLField<unknown, unknown> }[] {
  return Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLObjectType => isObjectType(t) && !isIntrospectionType(t) && t !== schema.getSubscriptionType())
    .flatMap((parent) => Object.values(parent.getFields()).map((field) => ({ parent, field })))
    .filter(({ field }) => field.args.length > 0 && field.name !== '_entities');
}

type Path = (string | number)[];
const fieldPath = (path: Path) => path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key), '');

/** Every scalar or enum position inside an argument: `input.items[0].productId`. */
function leaves(type: GraphQLInputType, path: Path, depth = 0): { path: Path; type: GraphQLNamedType }[] {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return leaves(nullable.ofType, [...path, 0], depth);
  if (isInputObjectType(nullable)) {
    if (depth > 5) return [];
    return Object.values(nullable.getFields()).flatMap((f) => leaves(f.type, [...path, f.name], depth + 1));
  }
  return [{ path, type: nullable }];
}

// ---------------------------------------------------------------------------------------------
// Values

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const ID_SHAPED = '0b7c4d52-6a3e-4f0e-9d2b-3c1f5a8e7d61';

/** A value that passes the type and the guard, so the one hostile value is what the service sees. */
function baseline(type: GraphQLInputType): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [baseline(nullable.ofType)];
  if (isInputObjectType(nullable)) {
    return Object.fromEntries(
      Object.values(nullable.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
        .map((f) => [f.name, baseline(f.type)]),
    );
  }
  if (isEnumType(nullable)) return nullable.getValues()[0]!.name;
  switch (nullable.name) {
    case 'ID':
      return UNKNOWN_ID;
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return true;
    case 'DateTime':
      return '2026-01-01T00:00:00.000Z';
    default:
      return 'x';
  }
}

/** Sets `value` at `path` inside a copy of `root`. */
function withValue(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path;
  if (Array.isArray(root)) return root.map((item, i) => (i === key ? withValue(item, rest, value) : item));
  const copy = { ...(root as Record<string, unknown>) };
  copy[key as string] = withValue(copy[key as string], rest, value);
  return copy;
}

const TEXT_ATTACKS: [string, unknown][] = [
  ['a NUL byte', 'bad\u0000text'],
  ['only a NUL byte', '\u0000'],
  [`${MAX_TEXT_LENGTH + 1} characters`, 'x'.repeat(MAX_TEXT_LENGTH + 1)],
  ['a lone surrogate', 'lone \ud800 half'],
];
const ID_ATTACKS: [string, unknown][] = [
  ['a non-UUID', 'no-such-thing'],
  ['a UUID with a NUL byte', `${ID_SHAPED}\u0000`],
  ['a NUL byte', '\u0000'],
  ['10 kB', 'a'.repeat(10_240)],
  ['an empty string', ''],
  ['a UUID in braces', `{${ID_SHAPED}}`],
  ['a UUID with SQL', `${ID_SHAPED}' OR '1'='1`],
  ['a number', 12345],
];
/** Wrong types are refused by graphql-js itself when the variables are coerced. */
const WRONG_TYPE: [string, unknown][] = [['an object', { $gt: '' }]];
const INT_WRONG: [string, unknown][] = [
  ['2^31', 2 ** 31],
  ['-2^31 - 1', -(2 ** 31) - 1],
  ['1.5', 1.5],
  ['a numeric string', '1'],
  ['1e20', 1e20],
];
const INT_ANY: [string, unknown][] = [
  ['-1', -1],
  ['0', 0],
  ['2^31 - 1', 2 ** 31 - 1],
  ['-2^31', -(2 ** 31)],
];

/**
 * The bounds of every Int argument (documented in the schema, enforced by each subgraph's zod
 * schemas or page-size check): one beyond is BAD_USER_INPUT naming it, the bound itself is not.
 * `{}` means any 32-bit integer is acceptable. A new Int argument must be added here.
 */
const INT_BOUNDS: Record<string, { min?: number; max?: number }> = {
  'Query.products(first)': { min: 0, max: 100 },
  'Query.products(filter.minPrice)': { min: 0 },
  'Query.products(filter.maxPrice)': { min: 0 },
  'Category.products(first)': { min: 0, max: 100 },
  'Product.reviews(first)': { min: 0, max: 100 },
  'User.orders(first)': { min: 0, max: 100 },
  'User.reviews(first)': { min: 0, max: 100 },
  'Query.staleReservations(olderThanSeconds)': {},
  'Query.staleReservations(first)': {}, // clamped to 1..500
  'Mutation.createProduct(input.price)': { min: 0, max: 100_000_000 },
  'Mutation.createProduct(input.stock)': { min: 0, max: 1_000_000 },
  'Mutation.createProduct(input.weightGrams)': { min: 0, max: 1_000_000 },
  'Mutation.updateProduct(input.price)': { min: 0, max: 100_000_000 },
  'Mutation.updateProduct(input.weightGrams)': { min: 0, max: 1_000_000 },
  'Mutation.adjustStock(delta)': { min: -1_000_000, max: 1_000_000 },
  'Mutation.reserveStock(items[0].quantity)': { min: 1, max: 1_000_000 },
  'Mutation.placeOrder(input.items[0].quantity)': { min: 1, max: 100 },
  'Mutation.addReview(input.rating)': { min: 1, max: 5 },
};

// ---------------------------------------------------------------------------------------------
// Forged cursors

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const DATE = '2026-01-01T00:00:00.000Z';
const PRODUCT_ORDERINGS = { NAME: 'Oak Kettle', PRICE: 1999, CREATED_AT: DATE } as const;

/** Cursors no connection may accept, whatever its ordering (products are ordered by `ordering`). */
function forgedCursors(ordering: keyof typeof PRODUCT_ORDERINGS | undefined): [string, string][] {
  const tag = ordering ?? 'CREATED_AT';
  const cursors: [string, string][] = [
    ['not base64', '!!!***'],
    ['base64 of no JSON', b64('not json')],
    ['a JSON object', b64('{"createdAt":"2026-01-01"}')],
    ['a JSON string', b64('"x"')],
    ['an empty tuple', encodeCursor([])],
    ['one part', encodeCursor([ID_SHAPED])],
    ['four parts', encodeCursor([tag, DATE, ID_SHAPED, 'extra'])],
    ['null parts', b64('[null,null]')],
    ['nested arrays', b64(`[[1],["${ID_SHAPED}"]]`)],
    ['a date that is no date', encodeCursor(['notadate', ID_SHAPED])],
    ['a date that is no date (tagged)', encodeCursor(['CREATED_AT', 'notadate', ID_SHAPED])],
    ['the year -200000', encodeCursor(['-200000-01-01T00:00:00.000Z', ID_SHAPED])],
    ['the year -200000 (tagged)', encodeCursor(['CREATED_AT', '-200000-01-01T00:00:00.000Z', ID_SHAPED])],
    ['the year 275760', encodeCursor(['CREATED_AT', '+275760-09-13T00:00:00.000Z', ID_SHAPED])],
    ['a date as a number', encodeCursor(['CREATED_AT', 1_767_225_600_000, ID_SHAPED])],
    ['a price of 2^31', encodeCursor(['PRICE', 2 ** 31, ID_SHAPED])],
    ['a price of -2^31 - 1', encodeCursor(['PRICE', -(2 ** 31) - 1, ID_SHAPED])],
    ['a fractional price', encodeCursor(['PRICE', 19.99, ID_SHAPED])],
    ['a price as a string', encodeCursor(['PRICE', '1999', ID_SHAPED])],
    ['a price of 1e400', b64(`["PRICE",1e400,"${ID_SHAPED}"]`)],
    ['a name with a NUL byte', encodeCursor(['NAME', 'Oak\u0000', ID_SHAPED])],
    ['a name of 5000 characters', encodeCursor(['NAME', 'x'.repeat(5000), ID_SHAPED])],
    ['a name that is a number', encodeCursor(['NAME', 7, ID_SHAPED])],
    ['an id that is no UUID', encodeCursor([DATE, 'no-such-thing'])],
    ['an id that is no UUID (tagged)', encodeCursor([tag, PRODUCT_ORDERINGS[tag], 'no-such-thing'])],
    ['an id with a NUL byte', encodeCursor([tag, PRODUCT_ORDERINGS[tag], `${ID_SHAPED}\u0000`])],
    ['an id that is a number', encodeCursor([DATE, 42])],
    ['an unknown ordering', encodeCursor(['RATING', 5, ID_SHAPED])],
  ];
  // Cursors of another ordering: well-formed, but they cannot say where this page starts.
  for (const [other, value] of Object.entries(PRODUCT_ORDERINGS)) {
    if (other !== tag && (ordering || other !== 'CREATED_AT')) cursors.push([`a cursor of the ${other} ordering`, encodeCursor([other, value, ID_SHAPED])]);
  }
  if (ordering) cursors.push(['a newest-first cursor of another connection', encodeCursor([DATE, ID_SHAPED])]);
  return cursors;
}

// ---------------------------------------------------------------------------------------------
// Cases

type Expectation =
  /** BAD_USER_INPUT naming exactly this field. */
  | { refused: string }
  /** BAD_USER_INPUT or GRAPHQL_VALIDATION_FAILED (graphql-js refuses the value before any resolver). */
  | { invalid: true }
  /** May succeed; any error is a client error, and not BAD_USER_INPUT about this field. */
  | { accepted: string }
  /** May succeed; any error is a client error. */
  | { harmless: true };

interface Ids {
  /** A real id per entity type, to reach fields below the root (`Product.reviews`). */
  byType: Record<string, string>;
  adminToken: string;
  serviceToken: string;
}

interface Request {
  query: string;
  variables: Record<string, unknown>;
  token: string;
}

/** What a case attacks; each group is one test. */
type Group = 'text' | 'id' | 'cursor' | 'number' | 'entity';

interface Case {
  target: TargetName;
  group: Group;
  name: string;
  expect: Expectation;
  request(ids: Ids): Request;
}

const selectionOf = (type: GraphQLOutputType) => (isCompositeType(getNamedType(type)) ? ' { __typename }' : '');

/** The operation calling `parent.field` with `values` (an entry per argument sent). */
function operationFor(target: Target, parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>, values: Record<string, unknown>, ids: Ids): Request {
  const args = field.args.filter((a) => a.name in values);
  const variables: Record<string, unknown> = { ...values };
  const definitions = args.map((a) => `$${a.name}: ${String(a.type)}`);
  const call = `${field.name}${args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : ''}${selectionOf(field.type)}`;
  const token = isInternal(target, parent, field.name) ? ids.serviceToken : ids.adminToken;
  if (isRootType(target.schema, parent)) {
    const kind = parent === target.schema.getMutationType() ? 'mutation' : 'query';
    return { query: `${kind} Case${definitions.length ? `(${definitions.join(', ')})` : ''} { ${call} }`, variables, token };
  }
  const id = ids.byType[parent.name];
  if (!id) throw new Error(`no ${parent.name} id to reach ${parent.name}.${field.name}: add one to the ids this test collects`);
  if (target.name !== 'gateway') {
    // Straight to the subgraph: the parent is an entity, reached the way the gateway reaches it.
    variables.reachReps = [{ __typename: parent.name, id }];
    return { query: `query Case($reachReps: [_Any!]!${definitions.map((d) => `, ${d}`).join('')}) { _entities(representations: $reachReps) { ... on ${parent.name} { ${call} } } }`, variables, token };
  }
  // Through the gateway: a root field that returns the parent and needs no argument but its id.
  const reach = Object.values(target.schema.getQueryType()!.getFields()).find(
    (f) => getNamedType(f.type) === parent && f.args.every((a) => !isNonNullType(a.type) || a.name === 'id'),
  );
  if (!reach) throw new Error(`no root field reaches ${parent.name}.${field.name}`);
  const needsId = reach.args.some((a) => a.name === 'id');
  if (needsId) variables.reachId = id;
  const all = needsId ? ['$reachId: ID!', ...definitions] : definitions;
  return { query: `query Case${all.length ? `(${all.join(', ')})` : ''} { ${reach.name}${needsId ? '(id: $reachId)' : ''} { ${call} } }`, variables, token };
}

/** Cases for one argument position: the hostile value there, every other required argument valid. */
function argumentCases(target: Target, parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): Case[] {
  const coordinate = `${parent.name}.${field.name}`;
  const cases: Case[] = [];
  const required = Object.fromEntries(field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined).map((a) => [a.name, baseline(a.type)]));
  const orderings = field.args.some((a) => a.name === 'orderBy') ? (Object.keys(PRODUCT_ORDERINGS) as (keyof typeof PRODUCT_ORDERINGS)[]) : [undefined];
  for (const leaf of leaves(arg.type, [arg.name])) {
    const path = fieldPath(leaf.path);
    const add = (group: Group, label: string, value: unknown, expect: Expectation, extra: Record<string, unknown> = {}) =>
      cases.push({
        target: target.name,
        group,
        name: `${coordinate}(${path}) with ${label}`,
        expect,
        request: (ids) => {
          const values = { ...required, ...extra };
          values[arg.name] = withValue(values[arg.name] ?? baseline(arg.type), leaf.path.slice(1), value);
          return operationFor(target, parent, field, values, ids);
        },
      });
    for (const [label, value] of WRONG_TYPE) add('number', label, value, { invalid: true });
    if (isEnumType(leaf.type)) add('number', 'an unknown value', 'NOPE', { invalid: true });
    if (isScalarType(leaf.type) && leaf.type.name === 'Boolean') add('number', 'a string', 'true', { invalid: true });
    if (isScalarType(leaf.type) && leaf.type.name === 'String') {
      for (const [label, value] of TEXT_ATTACKS) add('text', label, value, { refused: path });
      if (leaf.path.length === 1 && arg.name === 'after') {
        for (const ordering of orderings) {
          for (const [label, cursor] of forgedCursors(ordering)) {
            const orderBy = ordering && { orderBy: { field: ordering, direction: 'ASC' } };
            add('cursor', `${label}${ordering ? ` (ordered by ${ordering})` : ''}`, cursor, { refused: path }, orderBy || {});
          }
        }
      }
    }
    if (isScalarType(leaf.type) && leaf.type.name === 'ID') for (const [label, value] of ID_ATTACKS) add('id', label, value, { refused: path });
    if (isScalarType(leaf.type) && leaf.type.name === 'Int') {
      for (const [label, value] of INT_WRONG) add('number', label, value, { invalid: true });
      for (const [label, value] of INT_ANY) add('number', label, value, { harmless: true });
      const bounds = INT_BOUNDS[`${coordinate}(${path})`] ?? {};
      if (bounds.min !== undefined) {
        add('number', `its minimum ${bounds.min}`, bounds.min, { accepted: path });
        add('number', `one below its minimum`, bounds.min - 1, { refused: path });
      }
      if (bounds.max !== undefined) {
        add('number', `its maximum ${bounds.max}`, bounds.max, { accepted: path });
        add('number', `one above its maximum`, bounds.max + 1, { refused: path });
      }
    }
  }
  return cases;
}

/** The top-level field names of each `@key` of an entity type. */
function keysOf(type: GraphQLObjectType): string[][] {
  return (type.astNode?.directives ?? [])
    .filter((d) => d.name.value === 'key')
    .map((d) => {
      const fields = d.arguments?.find((a) => a.name.value === 'fields')?.value;
      return fields?.kind === Kind.STRING ? fields.value.split(/\s+/).filter(Boolean) : [];
    });
}

/** Every scalar position inside a field's (output) type, e.g. `price.amount`. */
function outputLeaves(type: GraphQLOutputType, path: Path): { path: Path; type: string }[] {
  const named = getNamedType(type);
  if (isObjectType(named)) return path.length > 3 ? [] : Object.values(named.getFields()).flatMap((f) => outputLeaves(f.type, [...path, f.name]));
  return [{ path, type: named.name }];
}

/** A valid value of an output type, as a subgraph would send it in a representation. */
function sampleOutput(type: GraphQLOutputType): unknown {
  const named = getNamedType(type);
  if (isObjectType(named)) return Object.fromEntries(Object.values(named.getFields()).map((f) => [f.name, sampleOutput(f.type)]));
  return named.name === 'Int' || named.name === 'Float' ? 1 : named.name === 'Boolean' ? true : 'USD';
}

/** Forged `_entities` representations, sent straight to a subgraph as a gateway would send them. */
function representationCases(target: Target): Case[] {
  const cases: Case[] = [];
  const add = (name: string, representations: (ids: Ids) => unknown[], field: string | null) =>
    cases.push({
      target: target.name,
      group: 'entity',
      name: `_entities with ${name}`,
      expect: field === null ? { invalid: true } : { refused: field },
      request: (ids) => ({
        query: 'query Case($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }',
        variables: { representations: representations(ids) },
        token: ids.adminToken,
      }),
    });
  const entities = Object.values(target.schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && keysOf(t).length > 0);
  for (const type of entities) {
    const fields = type.getFields();
    const valid = (ids: Ids) => ({ __typename: type.name, id: ids.byType[type.name] ?? UNKNOWN_ID });
    for (const keyField of new Set(keysOf(type).flat())) {
      const named = getNamedType(fields[keyField]!.type).name;
      const attacks = named === 'ID' ? ID_ATTACKS : TEXT_ATTACKS;
      for (const [label, value] of attacks) add(`a ${type.name} whose ${keyField} is ${label}`, () => [{ __typename: type.name, [keyField]: value }], `representations[0].${keyField}`);
      add(`a ${type.name} whose ${keyField} is an object`, () => [{ __typename: type.name, [keyField]: { $ne: null } }], `representations[0].${keyField}`);
      add(`a ${type.name} whose ${keyField} is a list`, () => [{ __typename: type.name, [keyField]: [UNKNOWN_ID] }], `representations[0].${keyField}`);
      add(`a ${type.name} whose ${keyField} is null`, () => [{ __typename: type.name, [keyField]: null }], 'representations[0]');
    }
    add(`a ${type.name} without its key`, () => [{ __typename: type.name }], 'representations[0]');
    add(`a valid ${type.name}, then a forged one`, (ids) => [valid(ids), { __typename: type.name, id: 'forged' }], 'representations[1].id');
    // Fields other subgraphs supply (@requires) are checked against their types too: each attack
    // replaces one scalar inside an otherwise valid value.
    for (const external of Object.values(fields).filter((f) => f.astNode?.directives?.some((d) => d.name.value === 'external'))) {
      add(`a ${type.name} whose ${external.name} is a string`, (ids) => [{ ...valid(ids), [external.name]: 'x' }], `representations[0].${external.name}`);
      for (const leaf of outputLeaves(external.type, [external.name])) {
        const attacks: [string, unknown][] =
          leaf.type === 'Int'
            ? [['2^31', 2 ** 31], ['1.5', 1.5], ['a numeric string', '1']]
            : leaf.type === 'String'
              ? [['a NUL byte', 'US\u0000'], ['a number', 1]]
              : [];
        for (const [label, value] of attacks) {
          add(
            `a ${type.name} whose ${fieldPath(leaf.path)} is ${label}`,
            (ids) => [withValue({ ...valid(ids), [external.name]: sampleOutput(external.type) }, leaf.path, value) as object],
            `representations[0].${fieldPath(leaf.path)}`,
          );
        }
      }
    }
  }
  for (const [label, value] of [['a string', 'x'], ['a number', 42], ['a list', []], ['true', true]] as const) add(`a representation that is ${label}`, () => [value], 'representations[0]');
  add('an unknown __typename', () => [{ __typename: 'NoSuchType', id: UNKNOWN_ID }], 'representations[0].__typename');
  add('a __typename of a type that is no entity', () => [{ __typename: 'PageInfo', id: UNKNOWN_ID }], 'representations[0].__typename');
  add('the Query type as __typename', () => [{ __typename: 'Query', id: UNKNOWN_ID }], 'representations[0].__typename');
  add('no __typename', () => [{ id: UNKNOWN_ID }], 'representations[0].__typename');
  add('a numeric __typename', () => [{ __typename: 7, id: UNKNOWN_ID }], 'representations[0].__typename');
  add('a null representation', () => [null], null);
  return cases;
}

const allCases = (): Case[] => [
  ...TARGETS.flatMap((target) => argumentFields(target.schema).flatMap(({ parent, field }) => field.args.flatMap((arg) => argumentCases(target, parent, field, arg)))),
  ...TARGETS.filter((t) => t.name !== 'gateway').flatMap(representationCases),
  {
    target: 'gateway',
    group: 'entity',
    name: '_entities, which the public graph does not have',
    expect: { invalid: true },
    request: (ids) => ({ query: `{ _entities(representations: [{ __typename: "Product", id: "${UNKNOWN_ID}" }]) { __typename } }`, variables: {}, token: ids.adminToken }),
  },
];

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface Outcome {
  status: number;
  errors: { message: string; extensions?: { code?: string; field?: string } }[];
  data: unknown;
}

async function sendAs(url: string, request: Request): Promise<Outcome> {
  const res = await send(url, { query: request.query, variables: request.variables }, { headers: bearer(request.token) });
  return { status: res.status, errors: res.errors ?? [], data: res.data };
}

/** Codes a client may get for a well-formed request it is not allowed or able to complete. */
const CLIENT_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED', 'UNAUTHORIZED_FIELD_OR_TYPE', 'CONFLICT', 'OUT_OF_STOCK']);
const LEAK = /prisma|invocation|node_modules|\/work\/|\.ts:\d+|\bat \S+ \(/i;

/** What is wrong with an outcome, or null. */
function judge(c: Case, outcome: Outcome): string | null {
  if (outcome.status !== 200 && outcome.status !== 400) return `HTTP ${outcome.status}`;
  for (const e of outcome.errors) {
    const code = e.extensions?.code ?? '(none)';
    if (!CLIENT_CODES.has(code)) return `${code}: ${e.message.slice(0, 300)}`;
    if (LEAK.test(e.message)) return `a message that leaks internals: ${e.message.slice(0, 300)}`;
  }
  const first = outcome.errors[0]?.extensions;
  if ('refused' in c.expect) {
    if (first?.code !== 'BAD_USER_INPUT' || first.field !== c.expect.refused) {
      return `expected BAD_USER_INPUT on ${c.expect.refused}, got ${first ? `${first.code} on ${first.field}` : 'no error'}`;
    }
  } else if ('invalid' in c.expect) {
    if (first?.code !== 'BAD_USER_INPUT' && first?.code !== 'GRAPHQL_VALIDATION_FAILED') return `expected a refusal, got ${first ? first.code : 'no error'}`;
  } else if ('accepted' in c.expect) {
    const field = c.expect.accepted;
    if (outcome.errors.some((e) => e.extensions?.code === 'BAD_USER_INPUT' && e.extensions.field === field)) return `refused ${field} at its bound: ${outcome.errors[0]!.message}`;
  }
  return null;
}

const BATCH = 20;

// ---------------------------------------------------------------------------------------------
// Malformed batches

/** What the gateway under attack accepts in one batch (BATCH_MAX_OPERATIONS). */
const BATCH_MAX_OPERATIONS = 5;

/** A write that must not happen: every malformed batch carries one beside its malformed part. */
const batchedRegister = {
  query: 'mutation($input: RegisterInput!) { register(input: $input) { user { id } } }',
  variables: { input: { email: 'batched-mallory@example.com', password: 'a-long-password', name: 'Mallory' } },
};
const TYPENAME = { query: '{ __typename }' };

/** JSON bodies that are arrays but not a batch the gateway runs; each refused whole with HTTP 400. */
const MALFORMED_BATCHES: [string, unknown][] = [
  ['an empty array', []],
  ['a number entry', [batchedRegister, 5]],
  ['a null entry', [batchedRegister, null]],
  ['a string entry', [batchedRegister, '{ __typename }']],
  ['an empty object entry', [batchedRegister, {}]],
  ['a nested array', [[batchedRegister]]],
  ['an array inside the batch', [batchedRegister, [TYPENAME, TYPENAME]]],
  ['a query that is not a string', [batchedRegister, { query: 42 }]],
  ['variables as a JSON string', [batchedRegister, { ...TYPENAME, variables: '{}' }]],
  ['extensions as an array', [batchedRegister, { ...TYPENAME, extensions: [] }]],
  ['an operationName that is not a string', [batchedRegister, { ...TYPENAME, operationName: ['a'] }]],
  ['one operation more than the maximum', [batchedRegister, ...Array<unknown>(BATCH_MAX_OPERATIONS).fill(TYPENAME)]],
  // Just under the 1 MB body limit (a larger body is refused with 413 before it is parsed).
  ['a huge array', [batchedRegister, ...Array<unknown>(30_000).fill(TYPENAME)]],
];

// ---------------------------------------------------------------------------------------------

describe('the hostile-input cases', () => {
  const cases = allCases();

  it('cover every argument of every field of the public graph and of each subgraph', () => {
    for (const target of TARGETS) {
      for (const { parent, field } of argumentFields(target.schema)) {
        for (const arg of field.args) {
          for (const leaf of leaves(arg.type, [arg.name])) {
            const prefix = `${parent.name}.${field.name}(${fieldPath(leaf.path)}) with `;
            expect(cases.some((c) => c.target === target.name && c.name.startsWith(prefix)), `${target.name}: ${prefix}`).toBe(true);
          }
        }
      }
    }
    expect(cases.length).toBeGreaterThan(500);
  });

  it('know the bounds of every Int argument', () => {
    const ints = TARGETS.flatMap((target) =>
      argumentFields(target.schema).flatMap(({ parent, field }) =>
        field.args.flatMap((arg) => leaves(arg.type, [arg.name]).filter((l) => l.type.name === 'Int').map((l) => `${parent.name}.${field.name}(${fieldPath(l.path)})`)),
      ),
    );
    expect(new Set(ints)).toEqual(new Set(Object.keys(INT_BOUNDS)));
  });
});

await describeOnBackends('hostile input on %s', (backend) => {
  let stack: Stack;
  let ids: Ids;

  beforeAll(async () => {
    stack = await startStack(backend, { gateway: { batching: { maxOperations: BATCH_MAX_OPERATIONS } } });
    const [admin, alice] = DEMO_ACCOUNTS;
    const [adminToken, aliceToken] = await Promise.all([stack.login(admin.email, admin.password), stack.login(alice.email, alice.password)]);
    const seen = await stack.request(
      '{ products(first: 1) { edges { node { id reviews(first: 1) { edges { node { id } } } } } } categories { id } me { id orders(first: 1) { edges { node { id } } } } }',
      {},
      aliceToken,
    );
    const product = seen.data!.products.edges[0].node;
    ids = {
      adminToken,
      serviceToken: await serviceToken(),
      byType: {
        Product: product.id,
        Review: product.reviews.edges[0]?.node.id ?? UNKNOWN_ID,
        Category: seen.data!.categories[0].id,
        User: seen.data!.me.id,
        Order: seen.data!.me.orders.edges[0].node.id,
      },
    };
  });
  afterAll(() => stack?.stop());

  /** Sends the cases in small concurrent batches; the databases must be the same after each batch. */
  async function attack(selected: Case[]): Promise<string[]> {
    const failures: string[] = [];
    for (let i = 0; i < selected.length; i += BATCH) {
      const batch = selected.slice(i, i + BATCH);
      const before = await snapshot(stack);
      await Promise.all(
        batch.map(async (c) => {
          const url = c.target === 'gateway' ? stack.gatewayUrl : stack.urls[c.target];
          const problem = judge(c, await sendAs(url, c.request(ids)));
          if (problem) failures.push(`${c.target}: ${c.name}: ${problem}`);
        }),
      );
      const after = await snapshot(stack);
      try {
        expect(after).toEqual(before);
      } catch {
        failures.push(`the databases changed during: ${batch.map((c) => `${c.target}: ${c.name}`).join('; ')}`);
      }
    }
    // Every service still answers.
    for (const url of [stack.gatewayUrl, ...SERVICE_NAMES.map((n) => stack.urls[n])]) {
      const health = await fetch(url.replace(/\/graphql$/, '/health'));
      if (health.status !== 200) failures.push(`${url} /health answered ${health.status}`);
    }
    return failures;
  }

  const cases = allCases();
  const groups: [string, Group][] = [
    ['NUL bytes, lone surrogates and oversize text in every String argument', 'text'],
    ['malformed ids in every ID argument', 'id'],
    ['forged cursors', 'cursor'],
    ['numbers at and beyond their bounds, and values of the wrong type', 'number'],
    ['forged entity representations sent straight to a subgraph', 'entity'],
  ];

  it.each(groups)('refuses %s as a client error, changes nothing and keeps every service up', async (_name, group) => {
    const selected = cases.filter((c) => c.group === group);
    expect(selected.length).toBeGreaterThan(20);
    expect(await attack(selected)).toEqual([]);
  });

  it('refuses malformed batches with HTTP 400, at the gateway and at every subgraph, and changes nothing', async () => {
    const failures: string[] = [];
    const targets = [stack.gatewayUrl, ...SERVICE_NAMES.map((n) => stack.urls[n])];
    const before = await snapshot(stack);
    for (const [name, body] of MALFORMED_BATCHES) {
      for (const url of targets) {
        const res = await sendBatch(url, body, { headers: bearer(ids.adminToken) });
        const error = res.errors?.[0];
        if (res.status !== 400 || res.results !== undefined || error?.extensions?.code !== 'BAD_REQUEST' || !error.message) {
          failures.push(`${name} at ${url === stack.gatewayUrl ? 'the gateway' : url}: HTTP ${res.status} ${JSON.stringify(res.errors ?? res.results).slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshot(stack)).toEqual(before);
    for (const url of targets) expect((await fetch(url.replace(/\/graphql$/, '/health'))).status).toBe(200);
  });

  it('names what is wrong with a malformed batch', async () => {
    const entry = await sendBatch(stack.gatewayUrl, [batchedRegister, 5]);
    expect(entry.errors?.[0]?.message).toMatch(/^Batch entry 1 is not a GraphQL request .*nothing in the batch was run/);
    const size = await sendBatch(stack.gatewayUrl, Array<unknown>(30_000).fill(TYPENAME));
    expect(size.errors?.[0]?.message).toMatch(new RegExp(`^Batch size limit of ${BATCH_MAX_OPERATIONS} operations exceeded, found 30000`));
    expect((await sendBatch(stack.gatewayUrl, [])).errors?.[0]?.message).toMatch(/No operations found/);
    expect((await sendBatch(stack.urls.catalog, [TYPENAME])).errors?.[0]?.message).toMatch(/batching disabled/i);
  });

  // What some of the checks mean, beyond "refused".
  describe('the rules behind the refusals', () => {
    const productNamed = (name: string, stock: number) => newProduct(stack, { name, stock, price: 500, weightGrams: 100, categoryId: ids.byType.Category, token: ids.adminToken });
    const search = async (text: string) => {
      const res = await stack.request('query($s: String) { products(first: 100, filter: { search: $s }) { totalCount edges { node { id } } } }', { s: text });
      expect(res.errors).toBeUndefined();
      return res.data!.products.edges.map((e: { node: { id: string } }) => e.node.id);
    };

    it('search matches %, _ and \\ literally, not as LIKE wildcards', async () => {
      const percent = await productNamed('Merino Scarf 100% Wool', 1);
      const underscore = await productNamed('snake_case Mug', 1);
      const backslash = await productNamed('Back\\slash Hook', 1);
      expect(await search('%')).toEqual([percent.id]);
      expect(await search('100%')).toEqual([percent.id]);
      expect(await search('_')).toEqual([underscore.id]);
      expect(await search('e_c')).toEqual([underscore.id]);
      expect(await search('\\')).toEqual([backslash.id]);
      expect(await search('k\\s')).toEqual([backslash.id]);
      expect(await search('%%')).toEqual([]);
    });

    it('adjustStock never takes the stock above 1,000,000, and a refused adjustment changes nothing', async () => {
      const p = await productNamed('Bulk Pencil', 999_990);
      const adjust = (delta: number) => stack.request(operation('AdjustStock'), { productId: p.id, delta }, ids.adminToken);
      expect((await adjust(10)).data!.adjustStock.stock).toBe(1_000_000);
      const before = await snapshot(stack);
      for (const delta of [1, 1_000_000]) {
        const res = await adjust(delta);
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'delta' });
        expect(res.errors?.[0]?.message).toBe('stock is 1000000: it cannot go above 1000000');
      }
      expect(await snapshot(stack)).toEqual(before);
      expect((await adjust(-1_000_000)).data!.adjustStock.stock).toBe(0);
    });

    it('lets concurrent adjustments fill the stock up to 1,000,000 and no further', async () => {
      const p = await productNamed('Bulk Eraser', 999_000);
      const results = await Promise.all(Array.from({ length: 20 }, () => stack.request(operation('AdjustStock'), { productId: p.id, delta: 100 }, ids.adminToken)));
      expect(results.filter((r) => r.data?.adjustStock)).toHaveLength(10);
      expect(results.filter((r) => r.errors?.[0]?.extensions?.field === 'delta')).toHaveLength(10);
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(1_000_000);
    });

    it('placeOrder through the gateway refuses a NUL idempotencyKey and a malformed product id, and changes nothing', async () => {
      const p = await productNamed('Guarded Kettle', 5);
      const before = await snapshot(stack);
      const place = (input: unknown) => stack.request(operation('PlaceOrder'), { input }, ids.adminToken);
      const nul = await place({ items: [{ productId: p.id, quantity: 1 }], idempotencyKey: 'key\u0000' });
      expect(nul.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' });
      const malformed = await place({ items: [{ productId: p.id, quantity: 1 }, { productId: `${p.id}\u0000`, quantity: 1 }] });
      expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.items[1].productId' });
      expect(await snapshot(stack)).toEqual(before);
    });

    it('reserveStock refuses the same product twice and quantities below 1, and changes nothing', async () => {
      const p = await productNamed('Reserved Lamp', 5);
      const before = await snapshot(stack);
      const reserve = (items: unknown) =>
        graphql(
          stack.urls.catalog,
          'mutation($id: ID!, $items: [ReservationItemInput!]!) { reserveStock(orderId: $id, items: $items) { status } }',
          { id: UNKNOWN_ID, items },
          ids.serviceToken,
        );
      const twice = await reserve([{ productId: p.id, quantity: 1 }, { productId: p.id, quantity: 1 }]);
      expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'items' });
      const negative = await reserve([{ productId: p.id, quantity: -3 }]);
      expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'items[0].quantity' });
      expect(await snapshot(stack)).toEqual(before);
    });
  });
});
