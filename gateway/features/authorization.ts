// Access rules declared in the subgraph schemas (@authenticated, @requiresScopes, @policy, composed
// into the supergraph), enforced by the gateway before it plans, with Apollo Router's semantics:
// the fields the caller may not read are taken out of the operation (no subgraph is called for
// them), answer null with an error at their path (UNAUTHENTICATED without a token, FORBIDDEN with
// one, `reason: UNAUTHORIZED_FIELD_OR_TYPE` as Router names it), and the rest is
// answered; with `rejectUnauthorized` the whole operation is refused instead. The subgraphs keep
// their own checks as a second line. A gateway feature: useAuthorization. The same `authorize`
// serves subscriptions (gateway/subscriptions/) and each operation of a batch (Apollo Server runs
// them through this plugin one by one).
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { getOperationAST, type DocumentNode, type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { unauthorizedField, unauthorizedOperation } from '../../lib/errors.js';
import type { Viewer } from '../../lib/security/auth.js';
import { grantsOf } from '../authorization/grants.js';
import { answerRemovedFields, authorizeOperation, errorPath, type AuthorizedOperation, type RemovedField } from '../authorization/operation.js';
import { POLICIES, type Policy } from '../authorization/policies.js';
import { accessRules, policyNames, type AccessRules } from '../authorization/rules.js';
import { declareEnforcedFeatures } from '../authorization/supergraph-features.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';
import type { Logger } from '../../lib/logger.js';

export interface AuthorizationOptions {
  /** Refuse the whole operation when any field is denied, instead of answering the rest. */
  rejectUnauthorized: boolean;
  logger: Logger;
  /** The policies `@policy` names (gateway/authorization/policies.ts). */
  policies?: Readonly<Record<string, Policy>>;
}

/** An operation as the caller may run it, for the caller it was authorized for. */
export interface Authorized extends AuthorizedOperation {
  /** The errors the removed fields answer, in order. */
  errors: GraphQLFormattedError[];
}

export interface AuthorizationFeature extends GatewayFeature {
  /** The operation the viewer may run (the document as is when nothing is denied); null before a supergraph is loaded. */
  authorize(document: DocumentNode, operation: OperationDefinitionNode, viewer: Viewer | null): Authorized | null;
  /** The paths of the fields the viewer may not read in an operation (for subscriptions, refused whole when any). */
  deniedPaths(document: DocumentNode, operation: OperationDefinitionNode, viewer: Viewer | null): string[][];
  /** The result of the rewritten operation, with the removed fields answered null and their errors added. */
  complete(result: FormattedExecutionResult, authorized: Authorized): FormattedExecutionResult;
}

const formatted = (removed: readonly RemovedField[], viewer: Viewer | null): GraphQLFormattedError[] =>
  removed.filter((r) => r.denied).map((r) => unauthorizedField(errorPath(r), viewer !== null).toJSON());

const sameError = (a: GraphQLFormattedError, b: GraphQLFormattedError) =>
  a.extensions?.code === b.extensions?.code && JSON.stringify(a.path) === JSON.stringify(b.path);

export function useAuthorization(options: AuthorizationOptions): AuthorizationFeature {
  declareEnforcedFeatures();
  const policies = options.policies ?? POLICIES;
  let loaded: { rules: AccessRules; schema: GraphQLSchema } | undefined;

  function authorize(document: DocumentNode, operation: OperationDefinitionNode, viewer: Viewer | null): Authorized | null {
    if (!loaded) return null;
    const result = authorizeOperation(loaded.schema, document, operation, loaded.rules, (rootField) => grantsOf(viewer, policies, rootField));
    return { ...result, errors: formatted(result.removed, viewer) };
  }

  function complete(result: FormattedExecutionResult, authorized: Authorized): FormattedExecutionResult {
    if (authorized.removed.length === 0 || !loaded) return result;
    const data = answerRemovedFields(loaded.schema, result.data, authorized.removed);
    const errors = [...(result.errors ?? [])];
    // A cached answer may already carry them.
    for (const e of authorized.errors) if (!errors.some((known) => sameError(known, e))) errors.push(e);
    return { ...result, data, ...(errors.length > 0 ? { errors } : {}) };
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      let authorized: Authorized | null = null;
      return {
        async didResolveOperation(requestContext) {
          const { document, operation, contextValue } = requestContext;
          if (!operation) return;
          authorized = authorize(document, operation, contextValue.viewer);
          // The response cache keys answers by the operation's text, not by who asked: an answer that
          // depends on the caller's access is never stored for another caller to read.
          if (authorized?.ruled) requestContext.overallCachePolicy.restrict({ maxAge: 0 });
          if (!authorized || authorized.removed.length === 0) return;
          if (options.rejectUnauthorized && authorized.errors.length > 0) {
            const paths = authorized.removed.filter((r) => r.denied).map(errorPath);
            authorized = null; // refused whole: nothing to complete
            throw unauthorizedOperation(paths, contextValue.viewer !== null);
          }
          // The plan is cached by query hash: the rewritten operation needs a hash of its own.
          const mutable = requestContext as { document: DocumentNode; operation: OperationDefinitionNode; queryHash: string };
          mutable.document = authorized.document;
          mutable.operation = getOperationAST(authorized.document, requestContext.operationName) ?? operation;
          mutable.queryHash = createHash('sha256').update(requestContext.queryHash).update('\0authorized\0').update(JSON.stringify(authorized.removed.map((r) => errorPath(r)))).digest('hex');
        },
        async responseForOperation() {
          // Nothing left to plan: the root fields answer null, without a subgraph call.
          if (!authorized?.empty) return null;
          const { data, errors } = complete({ data: {} }, authorized);
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data, errors } } };
        },
        async willSendResponse({ response }) {
          if (!authorized || authorized.removed.length === 0 || authorized.empty || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const completed = complete(result, authorized);
          result.data = completed.data;
          if (completed.errors) result.errors = completed.errors;
        },
      };
    },
  };

  return {
    plugins: [plugin],
    authorize,
    deniedPaths: (document, operation, viewer) => (authorize(document, operation, viewer)?.removed ?? []).filter((r) => r.denied).map(errorPath),
    complete,
    onSupergraph({ coreSupergraphSdl, apiSchema }) {
      const rules = accessRules(coreSupergraphSdl);
      const unknown = [...policyNames(rules)].filter((name) => !Object.hasOwn(policies, name));
      if (unknown.length > 0) options.logger.warn({ policies: unknown }, 'the supergraph names policies this gateway does not define: they deny every caller');
      loaded = { rules, schema: apiSchema };
    },
  };
}
