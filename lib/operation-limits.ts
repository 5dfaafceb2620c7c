// Operation limits, checked by the gateway before it plans a query and again by every subgraph
// (a subgraph may be reached without the gateway): tokens, depth, aliases, directives, root
// fields, a cost estimate, and one password check (login or register) per operation.
//
// Every check is linear in the size of the document: a fragment is measured once and its figures
// reused at every spread, so a fragment spreading the next one twice, 40 deep, costs 40 walks (a
// walk per spread would be 2^40).
//
// - tokens: graphql-js's own parser limit (`parseOptions.maxTokens`), which stops parsing at the
//   limit (armor's max-tokens plugin needs a parse hook that Apollo Server does not have);
//   `reportTokenLimit` gives its error the code of the other limits.
// - depth, aliases, directives: graphql-armor's validation rules (they memoize per fragment).
// - cost, root fields, password checks: ours, in `didResolveOperation` (after validation, before
//   the gateway plans), because the cost depends on the variables and on the schema's default page
//   sizes, which validation rules do not see; armor's cost-limit reads only literal `first`
//   values and knows neither `_entities` nor schema defaults.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  Lexer,
  SchemaMetaFieldDef,
  Source,
  TokenKind,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { MAX_PAGE_SIZE } from './connection.js';
import { operationRefused } from './errors.js';
import type { Logger } from './logger.js';

export interface OperationLimits {
  /** Nesting of fields (fragments add no level). */
  depth: number;
  /** Aliased fields, counted at every spread of the fragment they are in. */
  aliases: number;
  /** Fields selected at the root of the operation. */
  rootFields: number;
  directives: number;
  /** Lexical tokens of the whole document. */
  tokens: number;
  /** Estimated fields resolved, list sizes multiplied (see `estimateOperation`). */
  cost: number;
}

/** The gateway's defaults; every client operation stays below half of each (test/operation-limits.test.ts). */
export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  depth: 12,
  aliases: 30,
  rootFields: 20,
  directives: 50,
  tokens: 5_000,
  cost: 200_000,
};

/**
 * A subgraph's limits, derived from the gateway's so that it accepts every fetch the query planner
 * makes for an operation the gateway accepted, and still refuses what a caller sends it directly.
 * A fetch is a part of the client's operation plus what the planner adds:
 * - `__typename`, key and `@requires` fields beside each entity the client selected: at most 6
 *   fields (Product: `__typename id price { amount currency } weightGrams`) where the client's
 *   entity costs at least 2 (itself and a field in it), so a fetch costs at most 4 times the
 *   client's operation. `_entities` counts its representations, which are never more than the
 *   gateway counted for that path: pages hold at most `first` items, and every list without a
 *   size argument holds fewer than the `UNSIZED_LIST` the estimate assumes.
 * - aliases and directives: the client's (counted at every spread, as the planner expands
 *   fragments) plus the aliases the planner makes when it merges selections: twice the client's.
 * - depth: keys and `@requires` selections sit beside the fields that need them; two levels of room.
 * - root fields: a root fetch has at most the client's; an entity fetch has one (`_entities`).
 * - tokens: the planner reuses the client's fragments in its fetches (rebased on each subgraph),
 *   so a fetch is about as long as the client's operation plus keys (1.4 times, measured for 750
 *   tokens spreading one fragment over four subgraphs at 20 root fields); ten times leaves room.
 */
export function subgraphLimits(gateway: OperationLimits): OperationLimits {
  return {
    depth: gateway.depth + 2,
    aliases: gateway.aliases * 2,
    rootFields: gateway.rootFields,
    directives: gateway.directives * 2,
    tokens: gateway.tokens * 10,
    cost: gateway.cost * 4,
  };
}

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

/** The refusal message for the first limit the figures exceed, if any. */
export function exceededLimit(figures: OperationFigures, limits: OperationLimits): string | undefined {
  if (figures.passwordChecks > MAX_PASSWORD_CHECKS) {
    return `Login and register limit of ${MAX_PASSWORD_CHECKS} per operation exceeded, found ${figures.passwordChecks}.`;
  }
  if (figures.cost > limits.cost) return `Query cost limit of ${limits.cost} exceeded, found ${figures.cost}.`;
  if (figures.rootFields > limits.rootFields) return `Root fields limit of ${limits.rootFields} exceeded, found ${figures.rootFields}.`;
  return undefined;
}

/** Armor reports "Syntax Error: ..." for what is a validation error; the rest of its message names the limit. */
const reportTo = (context: ValidationContext | null, error: GraphQLError) =>
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));

const armorOptions = (n: number) => ({ n, propagateOnRejection: false, onReject: [reportTo] });

/** The validation rules: a failure is a GRAPHQL_VALIDATION_FAILED error like any other invalid operation. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    maxDepthRule({ ...armorOptions(limits.depth), flattenFragments: true }),
    maxAliasesRule(armorOptions(limits.aliases)),
    maxDirectivesRule(armorOptions(limits.directives)),
  ];
}

/** Parsing stops at the token limit: a 1 MB document of 500,000 tokens would take seconds to parse. */
export const limitParseOptions = (limits: OperationLimits): ParseOptions => ({ maxTokens: limits.tokens });

/** graphql-js 16 says "more that 5000 tokens" (sic); a later release may fix the typo. */
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[tn] (\d+) tokens\. Parsing aborted\.$/;

/**
 * graphql-js reports the token limit as a syntax error (GRAPHQL_PARSE_FAILED); clients get it like
 * every other limit, as GRAPHQL_VALIDATION_FAILED naming the limit (still HTTP 400).
 */
export function reportTokenLimit(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const tokens = formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' ? TOKEN_LIMIT.exec(formatted.message)?.[1] : undefined;
  if (tokens === undefined) return formatted;
  return { ...formatted, message: `Token limit of ${tokens} exceeded.`, extensions: { ...formatted.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } };
}

/** Checks the figures that depend on the variables, after validation and before execution (and planning). */
export function limitsPlugin<C extends BaseContext & { log: Logger }>(limits: OperationLimits): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const figures = estimateOperation(schema, document, operation, request.variables);
          contextValue.log.debug(figures, 'operation figures');
          const refusal = exceededLimit(figures, limits);
          if (refusal) throw operationRefused(refusal);
        },
      };
    },
  };
}

export interface MeasuredOperation extends OperationFigures {
  tokens: number;
  depth: number;
  aliases: number;
  directives: number;
}

/** Every figure of an operation, counted by the same code the servers run (for tests and reports). */
export function measureOperation(schema: GraphQLSchema, source: string, document: DocumentNode, variables: Record<string, unknown> = {}): MeasuredOperation {
  const counted = { depth: 0, aliases: 0, directives: 0 };
  const count = (key: keyof typeof counted) => ({
    n: Number.MAX_SAFE_INTEGER,
    onAccept: [(_: unknown, details: { n: number }) => void (counted[key] = Math.max(counted[key], details.n))],
  });
  validate(schema, document, [
    maxDepthRule({ ...count('depth'), flattenFragments: true }),
    maxAliasesRule(count('aliases')),
    maxDirectivesRule(count('directives')),
  ]);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) throw new Error('no operation in the document');
  return { tokens: countTokens(source), ...counted, ...estimateOperation(schema, document, operation, variables) };
}

/** Tokens as graphql-js's parser counts them for `maxTokens` (comments are not tokens). */
export function countTokens(source: string): number {
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  while (lexer.advance().kind !== TokenKind.EOF) tokens++;
  return tokens;
}
