// @defer through the gateway: a query whose fragments carry @defer is answered in parts, the first
// as soon as its fetches are done and each deferred fragment as its own finish, over
// multipart/mixed (deferSpec=20220824, as Apollo Router and Apollo Client speak it); a client that
// does not accept multipart/mixed gets the whole result in one JSON response.
//
// Apollo Server validates against the public schema, which declares no @defer, and answers one
// JSON body, so deferred operations are taken before it: a route on /graphql (POST with a JSON body,
// or GET) that handles a request whose operation mentions @defer and passes every other on. It applies what every
// operation gets: the token verified, the trusted-documents policy, validation, the operation
// limits and cost (the deferred fragments count like any field; estimated and actual cost recorded
// as for any operation), usage by client, the request
// metrics, logs and traces. A deferred operation is never cached by the response cache (it does
// not reach Apollo Server); its response says `cache-control: no-store`.
import express, { type Request, type Response } from 'express';
import { getVariableValues, GraphQLError, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import { badRequest, operationRefused, serviceUnavailable, unauthorizedOperation } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Tokens, Viewer } from '../../lib/security/auth.js';
import { actualCost } from '../../lib/security/operation-cost.js';
import { checkOperation, exceededLimit, type OperationLimits } from '../../lib/security/operation-limits.js';
import { isPlainObject } from '../../lib/security/input-guard.js';
import { BODY_LIMIT } from '../../lib/server/graphql-server.js';
import { serviceMetrics } from '../../lib/telemetry/metrics.js';
import { inSpan, traceRequests } from '../../lib/telemetry/tracing.js';
import type { GatewayContext } from '../context.js';
import { deferRules, mentionsDefer } from '../execution/defer-document.js';
import { DeferredPlanner, type InitialPayload, type SubsequentPayload } from '../execution/deferred-planner.js';
import { acceptsMultipart, MultipartWriter } from '../execution/multipart.js';
import type { GatewayFeature } from '../feature.js';
import type { Spending } from './cost-budget.js';
import type { CostClient } from './cost.js';
import { gatewayMetrics } from '../metrics.js';
import { resultFormatter } from '../subscriptions/format.js';
import { OPERATIONS_KEY_HEADER, operationIn, type OperationSent } from './trusted-documents.js';
import { CLIENT_NAME_HEADER, CLIENT_VERSION_HEADER, fieldsOf, type UsageRecorder } from './usage.js';

export interface DeferOptions {
  tokens: Tokens;
  limits: OperationLimits;
  /** The trusted-documents policy (useTrustedDocuments' `check`): throws the refusal, else returns the text to run. */
  admit?(sent: OperationSent): string | undefined;
  /** The manifest's text for an id (useTrustedDocuments' `bodyOf`): whether a persisted operation defers. */
  bodyOf?(hash: string): string | undefined;
  /** Usage by client, shared with the usage feature. */
  usage?: UsageRecorder;
  /** The access rules (useAuthorization's `deniedPaths`): a deferred query that selects a denied field is refused whole. */
  authorize?(document: DocumentNode, operation: OperationDefinitionNode, viewer: Viewer | null): readonly (readonly string[])[];
  /** The cost budget (useCostBudget's `spend`): throws the refusal when the client's budget is spent. */
  spend?(spending: Spending): Promise<void>;
  /** The cost metrics and usage (useCost's `record`): the operation's estimated and actual cost, once answered. */
  recordCost?(client: CostClient, estimated: number, actual: number): void;
  production: boolean;
  logger: Logger;
}

/** A refusal answered before anything runs: its HTTP status (from the error, else 400) and the errors as JSON. */
function refuse(res: Response, errors: readonly GraphQLFormattedError[], status: number) {
  res.status(status).type('application/json').json({ errors });
}

/** Parameters sent in a GET query string are JSON text (variables, extensions); undefined: not a request we read. */
const parsedParam = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value; // refused as "must be an object" below, or by Apollo Server
  }
};

/**
 * The GraphQL request parameters: a POST's JSON body, or a GET's query string (a persisted id sent
 * by GET, as the web shop sends its queries). A GET must carry what Apollo Server's CSRF prevention
 * asks of one (a content type other than a form's, or one of its preflight headers); any other
 * request is left to Apollo Server, which refuses it the same way.
 */
function paramsOf(req: Request): Record<string, unknown> | undefined {
  if (req.method === 'POST') return isPlainObject(req.body) ? req.body : undefined;
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  const simple = type === undefined || type === 'text/plain' || type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data';
  if (simple && !req.headers['apollo-require-preflight'] && !req.headers['x-apollo-operation-name']) return undefined;
  const query = req.query as Record<string, unknown>;
  return { query: query.query, operationName: query.operationName, variables: parsedParam(query.variables), extensions: parsedParam(query.extensions) };
}

const statusOf = (error: GraphQLError) => (error.extensions.http as { status?: number } | undefined)?.status ?? 400;

export function useDefer(options: DeferOptions): GatewayFeature {
  const planner = new DeferredPlanner();
  const format = resultFormatter(options.production);
  const metrics = serviceMetrics('gateway');
  const { deferredParts, deferredFirstPayload } = gatewayMetrics();
  const parseJson = express.json({ limit: BODY_LIMIT });

  /**
   * The operation text to run if this request defers, looked at before anything else is done for
   * it: its own text, or the manifest's for its id. Undefined: not ours (every other request pays a
   * look at its text and nothing more).
   */
  function deferredText(params: Record<string, unknown>): string | undefined {
    const sent = operationIn(params);
    // As the policy reads it: the manifest's text for one of its ids, else what was sent.
    const text = (sent.hash === undefined ? undefined : options.bodyOf?.(sent.hash)) ?? sent.query;
    return text !== undefined && mentionsDefer(text) ? text : undefined;
  }

  /** What a deferred request carries once it is known to be one (classify). */
  interface Deferred {
    text: string;
    viewer: Viewer | null;
    /** The request's parameters (JSON body, or query string of a GET). */
    params: Record<string, unknown>;
  }

  /** Takes the request if it defers (res.locals.deferred), else passes it on to Apollo Server's route. */
  async function classify(req: Request, res: Response, next: express.NextFunction): Promise<void> {
    const params = paramsOf(req);
    const text = params && deferredText(params);
    if (!params || text === undefined) return next('route');
    let viewer: Viewer | null;
    try {
      viewer = await options.tokens.fromAuthorization(req.headers.authorization);
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      return refuse(res, format.errors([err]), statusOf(err));
    }
    res.locals.deferred = { text, viewer, params } satisfies Deferred;
    next();
  }

  async function handle(req: Request, res: Response): Promise<void> {
    const { text, viewer, params: body } = res.locals.deferred as Deferred;
    // The trusted-documents policy, as for every operation.
    if (options.admit) {
      const key = req.headers[OPERATIONS_KEY_HEADER];
      try {
        options.admit({ ...operationIn(body), viewer, operationsKey: typeof key === 'string' ? key : undefined });
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        return refuse(res, format.errors([err]), statusOf(err));
      }
    }
    const { operationName, variables } = body;
    if (operationName != null && typeof operationName !== 'string') return refuse(res, format.errors([badRequest('"operationName" must be a string')]), 400);
    if (variables != null && !isPlainObject(variables)) return refuse(res, format.errors([badRequest('"variables" must be an object')]), 400);
    const schema = planner.schema;
    if (!schema) {
      const starting = serviceUnavailable('the gateway is starting; try again shortly');
      return refuse(res, format.errors([starting]), 503);
    }
    const vars = variables ?? {};
    const name = operationName ?? undefined;
    const started = performance.now();
    // Named as Apollo Server names it: the operation's own name once resolved, else the one asked for.
    const labels = { operation_name: metrics.operationNames.of(name), operation_type: 'query' };
    const countErrors = (errors: readonly GraphQLFormattedError[] | readonly GraphQLError[]) => {
      for (const e of errors) metrics.errors.inc({ code: metrics.errorCodes.of(String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')) });
    };
    const answered = () => {
      metrics.requests.inc(labels);
      metrics.requestDuration.observe(labels, (performance.now() - started) / 1000);
    };

    const checked = checkOperation(schema, options.limits, text, name, vars, [deferRules]);
    let refusal: GraphQLError | undefined;
    if ('errors' in checked) refusal = checked.errors[0];
    else if (checked.operation.operation !== 'query') refusal = operationRefused(`@defer is served on queries only; a ${checked.operation.operation} gets its whole result at once: remove @defer.`);
    else {
      const exceeded = exceededLimit(checked.figures, options.limits);
      if (exceeded) refusal = operationRefused(exceeded);
      else {
        // The access rules, as for a subscription: refused whole rather than answered in parts without the denied fields.
        const denied = options.authorize?.(checked.document, checked.operation, viewer) ?? [];
        if (denied.length > 0) refusal = unauthorizedOperation(denied, viewer !== null);
        else {
          try {
            await options.spend?.({
              cost: checked.figures.cost,
              viewer,
              clientAddress: req.ip,
              persisted: isPlainObject(body.extensions) && body.extensions.persistedQuery !== undefined,
              clientName: req.get(CLIENT_NAME_HEADER) ?? undefined,
            });
          } catch (err) {
            if (!(err instanceof GraphQLError)) throw err;
            refusal = err;
          }
        }
      }
    }
    if (refusal || 'errors' in checked) {
      const errors = 'errors' in checked ? checked.errors : [refusal!];
      countErrors(errors);
      answered();
      // Headers a refusal asks for (the cost budget's Retry-After), as Apollo Server sends them.
      const headers = (errors[0]!.extensions.http as { headers?: Iterable<[string, string]> } | undefined)?.headers;
      for (const [name, value] of headers ?? []) res.setHeader(name, value);
      return refuse(res, format.errors(errors), statusOf(errors[0]!));
    }
    const { document, operation } = checked;
    labels.operation_name = metrics.operationNames.of(operation.name?.value ?? name);
    // The variables coerced by their definitions, as Apollo Server does: a missing or mistyped one is refused before anything runs.
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], vars, { maxErrors: 10 });
    if (coerced.errors) {
      const errors = coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } }));
      countErrors(errors);
      answered();
      return refuse(res, format.errors(errors), 400);
    }

    const client = { name: req.get(CLIENT_NAME_HEADER) ?? undefined, version: req.get(CLIENT_VERSION_HEADER) ?? undefined };
    options.usage?.record(
      client,
      operation.name?.value ?? name,
      fieldsOf(schema, document, name),
    );

    const context: GatewayContext = { authorization: req.headers.authorization, viewer, clientAddress: req.ip, requestId: req.requestId, log: req.log };
    const multipart = acceptsMultipart(req.headers.accept);
    const writer = multipart ? new MultipartWriter(res) : undefined;
    writer?.start();
    let first = true;
    const send = (payload: InitialPayload | SubsequentPayload) => {
      deferredParts.inc({ operation_name: labels.operation_name, part: first ? 'initial' : 'subsequent' });
      if (first) deferredFirstPayload.observe({ operation_name: labels.operation_name }, (performance.now() - started) / 1000);
      first = false;
      if ('errors' in payload && payload.errors) countErrors(payload.errors);
      const incremental = 'incremental' in payload ? payload.incremental : undefined;
      for (const item of incremental ?? []) if (item.errors) countErrors(item.errors);
      writer?.write({
        ...payload,
        ...('errors' in payload && payload.errors ? { errors: format.errors(payload.errors) } : {}),
        ...(incremental ? { incremental: incremental.map((i) => (i.errors ? { ...i, errors: format.errors(i.errors) } : i)) } : {}),
      });
    };
    try {
      req.log.debug({ operationName: name, multipart }, 'deferred operation started');
      const result = await inSpan('gateway.execute', { 'graphql.operation.name': name ?? '', deferred: true }, () =>
        planner.run(document, operation, coerced.coerced, context, send),
      );
      if (writer) writer.end();
      else res.status(200).set('cache-control', 'no-store').json(format.result(result));
      options.recordCost?.(client, checked.figures.cost, actualCost(schema, document, operation, result.data));
      req.log.debug({ operationName: name, durationMs: Math.round(performance.now() - started), errors: result.errors?.length ?? 0 }, 'operation');
    } catch (err) {
      req.log.error({ err }, 'deferred operation failed');
      const failed = new GraphQLError('the operation could not be run', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      countErrors([failed]);
      // After the first payload the stream ends cleanly, the failure in its last part.
      if (writer) {
        writer.write({ hasNext: false, errors: format.errors([failed]) });
        writer.end();
      } else if (!res.headersSent) refuse(res, format.errors([failed]), 500);
    } finally {
      answered();
    }
  }

  return {
    onSupergraph: ({ coreSupergraphSdl, apiSchema, subgraphs }) => planner.update(coreSupergraphSdl, apiSchema, subgraphs),
    routes: (app) => {
      const serve = [
        (req: Request, res: Response, next: express.NextFunction) => void classify(req, res, next).catch(next),
        // Traced as Apollo Server's route is, once the request is known to be ours.
        ...traceRequests('gateway'),
        (req: Request, res: Response, next: express.NextFunction) => void handle(req, res).catch(next),
      ];
      app.post(
        '/graphql',
        // The same body limit and JSON parsing as Apollo Server's route (which then skips parsing);
        // any other content type is not ours (Apollo Server's CSRF prevention answers it).
        (req, res, next) => (req.is('application/json') ? parseJson(req, res, next) : next('route')),
        ...serve,
      );
      app.get('/graphql', ...serve);
    },
  };
}
