// Batched requests: a JSON array of operations in one POST, as Apollo Client's BatchHttpLink sends
// them, answered as an array in the same order. Off unless BATCH_MAX_OPERATIONS is set.
//
// Apollo Server runs each operation of a batch through the plugins on its own, at the same time as
// the others, so a plugin never sees the batch. The whole batch is therefore checked in `admit`,
// while the request context is built, after the body is parsed (Express's 1 MB limit applies to the
// whole array) and before Apollo Server starts any operation:
// - the size, and the shape of every entry (Apollo Server would refuse a malformed entry only
//   while the others already run, so a bad entry refuses the whole batch here, before anything runs);
// - the trusted-documents policy, per entry: a refused entry is swapped for a stand-in that fails
//   in its own slot with the policy's error (its text is never parsed), the others run;
// - the limits that bound the work of one request, summed over the batch: estimated cost and
//   password checks (lib/security/operation-limits.ts `exceededBatchLimit`). Every other limit
//   (tokens, depth, aliases, ...) Apollo Server applies to each operation as to a single request.
import type { ApolloServerPlugin } from '@apollo/server';
import type { Request } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { badRequest, operationRefused } from '../../lib/errors.js';
import type { Viewer } from '../../lib/security/auth.js';
import { checkOperation, exceededBatchLimit, type OperationFigures, type OperationLimits } from '../../lib/security/operation-limits.js';
import { isPlainObject } from '../../lib/security/input-guard.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';
import { OPERATIONS_KEY_HEADER, operationIn, TrustedDocumentCode, type OperationSent } from './trusted-documents.js';

export interface BatchingOptions {
  /** The most operations one batch may hold; 0: batches are refused (Apollo Server's default). */
  maxOperations: number;
  /** The gateway's operation limits: cost and password checks are summed over the batch. */
  limits: OperationLimits;
  /** The trusted-documents policy (TrustedDocuments.check): throws the refusal, else returns the text to run. */
  admit(sent: OperationSent): string | undefined;
}

/** Runs in a refused entry's place: parsed, never executed; its slot answers the refusal. */
const STAND_IN = '{ __typename }';

/** What is wrong with one entry of a batch, by the rules Apollo Server applies to a POST body (runHttpQuery). */
function malformed(entry: unknown): string | undefined {
  if (!isPlainObject(entry) || Object.keys(entry).length === 0) return 'is not a GraphQL request (a JSON object with query, variables, operationName, extensions)';
  if (entry.query !== undefined && entry.query !== null && typeof entry.query !== 'string') return 'has a query that is not a string';
  if (entry.variables != null && !isPlainObject(entry.variables)) return 'has variables that are not an object';
  if (entry.extensions != null && !isPlainObject(entry.extensions)) return 'has extensions that are not an object';
  if (entry.operationName != null && typeof entry.operationName !== 'string') return 'has an operationName that is not a string';
  return undefined;
}

/** The figures of an operation as the gateway would run it; undefined when it would not run at all (its slot gets its own error). */
function figuresOf(schema: GraphQLSchema, limits: OperationLimits, text: string, entry: Record<string, unknown>): OperationFigures | undefined {
  const checked = checkOperation(schema, limits, text, typeof entry.operationName === 'string' ? entry.operationName : undefined, isPlainObject(entry.variables) ? entry.variables : {});
  return 'errors' in checked ? undefined : checked.figures;
}

/** Batched requests as a gateway feature; off (no hooks at all) when `maxOperations` is 0. */
export function useBatching(options: BatchingOptions): GatewayFeature {
  const { maxOperations, limits } = options;
  if (maxOperations === 0) return {};
  let apiSchema: GraphQLSchema | undefined;
  // The stand-ins' extensions objects, each with the refusal its slot answers. Apollo Server hands
  // an entry's extensions object to the plugins as is, and no client can send an object identity.
  const refusals = new WeakMap<object, GraphQLError>();

  const standIn = (refusal: GraphQLError) => {
    const extensions = {};
    refusals.set(extensions, refusal);
    return { query: STAND_IN, extensions };
  };

  function admit(req: Request, viewer: Viewer | null): void {
    if (req.method !== 'POST' || !Array.isArray(req.body)) return;
    const batch = req.body as unknown[];
    if (batch.length > maxOperations) {
      throw badRequest(`Batch size limit of ${maxOperations} operations exceeded, found ${batch.length}: send at most ${maxOperations} operations per request.`);
    }
    batch.forEach((entry, i) => {
      const problem = malformed(entry);
      if (problem) throw badRequest(`Batch entry ${i} ${problem}; nothing in the batch was run.`);
    });
    const key = req.headers[OPERATIONS_KEY_HEADER];
    const figures: OperationFigures[] = [];
    batch.forEach((entry, i) => {
      const request = entry as Record<string, unknown>;
      const sent = operationIn(request);
      let text: string | undefined;
      try {
        text = options.admit({ ...sent, viewer, operationsKey: typeof key === 'string' ? key : undefined });
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        batch[i] = standIn(err);
        return;
      }
      // An id the gateway's manifest does not hold names an operation only Apollo Server's APQ
      // cache may know, which is not readable here: its cost could not be counted with the
      // others. Its slot answers PERSISTED_QUERY_NOT_FOUND, on which Apollo Client sends the text.
      if (text === undefined && sent.query === undefined && sent.hash !== undefined) {
        batch[i] = standIn(new GraphQLError('PersistedQueryNotFound', { extensions: { code: TrustedDocumentCode.NOT_FOUND, http: { status: 200 } } }));
        return;
      }
      // What Apollo Server runs: the text sent, else the manifest's for the id.
      const runs = sent.query ?? text;
      const measured = runs !== undefined && apiSchema ? figuresOf(apiSchema, limits, runs, request) : undefined;
      if (measured) figures.push(measured);
    });
    const refusal = exceededBatchLimit(figures, limits);
    if (refusal) throw operationRefused(refusal);
  }

  /** A refused entry's stand-in fails in its slot with the refusal; once resolved, nothing of it runs. */
  const standInPlugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ request }) {
      const refusal = request.extensions && refusals.get(request.extensions);
      return {
        async didResolveOperation() {
          if (refusal) throw refusal;
        },
        // Apollo Server gives the whole array the HTTP status of whichever operation failed last
        // (400 for one invalid operation), and Apollo Client then fails every operation of the
        // batch. The array is a valid answer whatever its slots hold, as for one operation whose
        // fields failed: 200, each slot with its own errors.
        async willSendResponse({ requestIsBatched, response }) {
          if (requestIsBatched) response.http.status = 200;
        },
      };
    },
  };

  return {
    batchedRequests: true,
    admit,
    plugins: [standInPlugin],
    onSupergraph({ apiSchema: schema }) {
      apiSchema = schema;
    },
  };
}
