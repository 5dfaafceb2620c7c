// The schema-wide input guard: before any resolver runs, every argument value is checked against
// the rules that hold for the whole system, so no field (including one added later) can hand
// PostgreSQL a value it refuses or a lookup a key no row can have. Every entity id is a UUID
// (`@default(uuid())`, `seedId`); text must be well-formed, without NUL bytes (PostgreSQL refuses
// them in text) and of bounded length. `_entities` representations are checked the same way
// against the entity's fields, so a forged one sent straight to a subgraph is refused too.
// Field-specific rules (ranges, formats) stay in each subgraph's zod schemas.
import {
  defaultFieldResolver,
  getNullableType,
  GraphQLID,
  GraphQLString,
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
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { badUserInput } from '../errors.js';

/** Above every field-specific limit (the longest is a product description, 5000). */
export const MAX_TEXT_LENGTH = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// With the u flag a surrogate pair is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Cs}/u;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/** Why `value` is not acceptable text for `field`, or null when it is. */
export function textProblem(value: string, field: string, maxLength = MAX_TEXT_LENGTH): string | null {
  if (value.includes('\u0000')) return `${field} must not contain NUL characters`;
  if (value.length > maxLength) return `${field} must be at most ${maxLength} characters`;
  if (LONE_SURROGATE.test(value)) return `${field} must be well-formed Unicode text`;
  return null;
}

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/** An ID must be a UUID; a String must be acceptable text. Other scalars are coerced by graphql-js already. */
function checkScalar(typeName: string, value: unknown, path: string): void {
  if (typeName === GraphQLID.name) {
    if (!isUuid(value)) throw badUserInput(`${path} must be an id (a UUID)`, path);
  } else if (typeName === GraphQLString.name && typeof value === 'string') {
    const problem = textProblem(value, path);
    if (problem) throw badUserInput(problem, path);
  }
}

/** Walks a coerced argument value through its input type: lists, input objects, scalars. */
function checkInput(type: GraphQLInputType, value: unknown, path: string): void {
  if (value === null || value === undefined) return; // nullability is graphql-js's job
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (Array.isArray(value)) value.forEach((item, i) => checkInput(nullable.ofType, item, join(path, i)));
  } else if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[key];
      if (field) checkInput(field.type, item, join(path, key));
    }
  } else if (isScalarType(nullable)) {
    checkScalar(nullable.name, value, path);
  }
}

/** Each entity type's key field sets, read once: every representation of every `_entities` call asks. */
const keysOfType = new WeakMap<GraphQLObjectType, string[][]>();

/** The top-level field names of each `@key(fields: "...")` of an entity type. */
function keyFieldSets(type: GraphQLObjectType): string[][] {
  let keys = keysOfType.get(type);
  if (!keys) keysOfType.set(type, (keys = readKeyFieldSets(type)));
  return keys;
}

function readKeyFieldSets(type: GraphQLObjectType): string[][] {
  const nodes = [type.astNode, ...type.extensionASTNodes];
  const keys = nodes.flatMap((node) => node?.directives?.filter((d) => d.name.value === 'key') ?? []);
  return keys.flatMap((key) => {
    const fields = key.arguments?.find((a) => a.name.value === 'fields')?.value;
    if (fields?.kind !== Kind.STRING) return [];
    const selection = parse(`{ ${fields.value} }`).definitions[0];
    if (selection?.kind !== Kind.OPERATION_DEFINITION) return [];
    return [selection.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []))];
  });
}

/** A JSON object (not null, not an array): what a request's variables, extensions or an input object must be. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value a representation carries for a field, checked against the field's (output) type. */
function checkRepresentationValue(type: GraphQLOutputType, value: unknown, path: string): void {
  const nullable = getNullableType(type);
  const refuse = (what: string) => badUserInput(`${path} must be ${what}`, path);
  if (value === null) {
    if (isNonNullType(type)) throw refuse('present');
    return;
  }
  if (isListType(nullable)) {
    if (!Array.isArray(value)) throw refuse('a list');
    value.forEach((item, i) => checkRepresentationValue(nullable.ofType, item, join(path, i)));
  } else if (isObjectType(nullable)) {
    if (!isPlainObject(value)) throw refuse('an object');
    const fields = nullable.getFields();
    for (const [key, item] of Object.entries(value)) {
      const field = fields[key];
      if (field) checkRepresentationValue(field.type, item, join(path, key));
    }
  } else if (isEnumType(nullable)) {
    if (typeof value !== 'string' || !nullable.getValue(value)) throw refuse(`one of ${nullable.getValues().map((v) => v.name).join(', ')}`);
  } else if (isScalarType(nullable)) {
    switch (nullable.name) {
      case 'ID':
      case 'String':
        if (typeof value !== 'string') throw refuse('a string');
        return checkScalar(nullable.name, value, path);
      case 'Int':
        if (!Number.isInteger(value) || (value as number) < INT32.min || (value as number) > INT32.max) throw refuse('a 32-bit integer');
        return;
      case 'Float':
        if (!Number.isFinite(value)) throw refuse('a number');
        return;
      case 'Boolean':
        if (typeof value !== 'boolean') throw refuse('true or false');
        return;
    }
  }
}

/**
 * One `_entities` representation: an entity type of this subgraph, at least one complete key,
 * and every field it carries (keys, `@requires` fields) of that field's type.
 */
function checkRepresentation(schema: GraphQLSchema, representation: unknown, path: string): void {
  if (!isPlainObject(representation)) throw badUserInput(`${path} must be an object with __typename and a key`, path);
  const typename = representation.__typename;
  const type = typeof typename === 'string' ? schema.getType(typename) : undefined;
  const keys = isObjectType(type) ? keyFieldSets(type) : [];
  if (!isObjectType(type) || keys.length === 0) throw badUserInput(`${join(path, '__typename')} must name an entity of this service`, join(path, '__typename'));
  if (!keys.some((key) => key.every((field) => representation[field] !== undefined && representation[field] !== null))) {
    throw badUserInput(`${path} must carry a key of ${type.name} (${keys.map((k) => k.join(' ')).join(' or ')})`, path);
  }
  const fields = type.getFields();
  for (const [key, value] of Object.entries(representation)) {
    const field = fields[key];
    if (field) checkRepresentationValue(field.type, value, join(path, key));
  }
}

function checkArguments(schema: GraphQLSchema, parent: GraphQLObjectType, fieldName: string, args: readonly GraphQLArgument[], values: Record<string, unknown>) {
  for (const arg of args) {
    const value = values[arg.name];
    if (parent === schema.getQueryType() && fieldName === '_entities' && arg.name === 'representations' && Array.isArray(value)) {
      value.forEach((representation, i) => checkRepresentation(schema, representation, join(arg.name, i)));
    } else {
      checkInput(arg.type, value, arg.name);
    }
  }
}

/**
 * Wraps the resolver of every field that takes arguments (in place) so the arguments are checked
 * first: a bad one is BAD_USER_INPUT with `extensions.field` naming it (`input.items[0].productId`),
 * and the resolver, hence the database, is never reached.
 */
export function guardArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        checkArguments(schema, type, field.name, field.args, args);
        return resolve(source, args, context, info);
      };
      // A subscription's source stream is opened by `subscribe`, before any event is resolved.
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args: Record<string, unknown>, context, info) => {
          checkArguments(schema, type, field.name, field.args, args);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}

