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
// - cost, root fields, password checks: ours (operation-cost.ts), in `didResolveOperation` (after
//   validation, before the gateway plans: lib/server/plugins/limits.ts), because the cost depends on the variables and on the
//   schema's default page sizes, which validation rules do not see; armor's cost-limit reads only
//   literal `first` values and knows neither `_entities` nor schema defaults.
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  getOperationAST,
  GraphQLError,
  Kind,
  Lexer,
  parse,
  specifiedRules,
  Source,
  TokenKind,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { estimateOperation, MAX_PASSWORD_CHECKS, type OperationFigures } from './operation-cost.js';

export { estimateOperation, type OperationFigures } from './operation-cost.js';

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

/** The gateway's defaults; every client operation stays below half of each (test/unit/operation-limits.test.ts). */
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
 *   gateway counted for that path: the subgraphs' schemas declare the same @listSize as the
 *   supergraph, and every list holds at most the size it declares.
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

/** The refusal message for the first limit the figures exceed, if any. */
export function exceededLimit(figures: OperationFigures, limits: OperationLimits): string | undefined {
  if (figures.passwordChecks > MAX_PASSWORD_CHECKS) {
    return `Login and register limit of ${MAX_PASSWORD_CHECKS} per operation exceeded, found ${figures.passwordChecks}.`;
  }
  if (figures.cost > limits.cost) return `Query cost limit of ${limits.cost} exceeded, found ${figures.cost}.`;
  if (figures.rootFields > limits.rootFields) return `Root fields limit of ${limits.rootFields} exceeded, found ${figures.rootFields}.`;
  return undefined;
}

/**
 * The refusal message for a batch whose operations together exceed a limit that bounds the work of
 * one request: password checks (scrypt) and the estimated cost are summed over the batch, so that
 * a batch asks no more of the servers than one operation may.
 */
export function exceededBatchLimit(batch: OperationFigures[], limits: OperationLimits): string | undefined {
  const passwordChecks = batch.reduce((sum, f) => sum + f.passwordChecks, 0);
  const cost = batch.reduce((sum, f) => Math.min(sum + f.cost, Number.MAX_SAFE_INTEGER), 0);
  if (passwordChecks > MAX_PASSWORD_CHECKS) {
    return `Login and register limit of ${MAX_PASSWORD_CHECKS} per batch exceeded, found ${passwordChecks}.`;
  }
  if (cost > limits.cost) return `Query cost limit of ${limits.cost} per batch exceeded, found ${cost} summed over ${batch.length} operations.`;
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

/** An operation the gateway may run: parsed, valid, selected by name, with its figures (not yet compared with the limits). */
export interface CheckedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  figures: OperationFigures;
}

/**
 * What the gateway checks of an operation that reaches it outside Apollo Server (a subscription, a
 * batch entry, a deferred query): parsed under the token limit, validated with the limit rules (and
 * `rules`, the path's own), the operation selected by name, and its figures estimated with the
 * variables. The errors are those Apollo Server would give (GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED, BAD_REQUEST); whether the figures exceed a limit is the caller's call
 * (`exceededLimit` for one operation, `exceededBatchLimit` for a batch).
 */
export function checkOperation(
  schema: GraphQLSchema,
  limits: OperationLimits,
  text: string,
  operationName: string | undefined,
  variables: Readonly<Record<string, unknown>>,
  rules: readonly ValidationRule[] = [],
): CheckedOperation | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(text, limitParseOptions(limits));
  } catch (err) {
    // reportTokenLimit reports the token limit like the other limits.
    return { errors: [new GraphQLError((err as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } } })] };
  }
  const invalid = validate(schema, document, [...specifiedRules, ...limitRules(limits), ...rules]);
  if (invalid.length > 0) {
    return { errors: invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: e.extensions.code ?? 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } })) };
  }
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    const message = operationName === undefined ? 'name the operation to run with "operationName"' : `no operation named "${operationName}" in the document`;
    return { errors: [new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } })] };
  }
  try {
    return { document, operation, figures: estimateOperation(schema, document, operation, variables) };
  } catch (err) {
    if (err instanceof GraphQLError) return { errors: [err] };
    throw err;
  }
}

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
