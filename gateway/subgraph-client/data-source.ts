// How the gateway calls a subgraph, and what a client sees when that goes wrong. A subgraph's own
// errors reach the client with their own message, code and HTTP status (a wrong password is the
// users subgraph's UNAUTHENTICATED, not "401: Unauthorized"). A subgraph that cannot be reached,
// answers too late or answers something that is not GraphQL costs only its fields, as
// SERVICE_UNAVAILABLE naming the service; its URL and the cause go to the log, never to the client.
// A call made for a client's operation forwards who the client is (token, request id, address).
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
// The package root does not export the enum of request kinds; its own module does.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { ErrorCode, serviceUnavailable } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { REQUEST_ID_HEADER } from '../../lib/server/request-id.js';
import type { GatewayContext } from '../context.js';
import { gatewayMetrics, type FetchFailure } from '../metrics.js';
import { subgraphFetcher, SubgraphTimeoutError } from './fetch.js';
import type { SubgraphCall } from './types.js';

type FetcherResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];
type SubgraphResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;
type SubgraphError = NonNullable<SubgraphResponse['errors']>[number];

export interface SubgraphSourceOptions {
  /** The subgraph's name in the supergraph; error messages name it. */
  name: string;
  url: string;
  /** How long a call may take, response body included. */
  timeoutMs: number;
  /** Wraps each HTTP call (the features' subgraphCall hooks, e.g. deduplication). */
  wrap?: (call: SubgraphCall) => SubgraphCall;
  /** For failures outside a client request (composing from the running subgraphs). */
  logger: Logger;
}

/**
 * Codes with which a subgraph refuses the request the gateway built (a supergraph that no longer
 * matches the subgraph, a gateway bug): the client's operation was valid, so they are internal.
 */
const REFUSED_GATEWAY_REQUEST = new Set<string>([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
]);

/** A GraphQL response a subgraph sent with an HTTP error status, on its way past RemoteGraphQLDataSource's error path. */
class SubgraphAnswer extends GraphQLError {
  constructor(readonly response: SubgraphResponse) {
    super('the subgraph answered with errors');
  }
}

const isGraphQLResponse = (body: unknown): body is SubgraphResponse =>
  typeof body === 'object' && body !== null && (Array.isArray((body as SubgraphResponse).errors) || 'data' in body);

/** The metric's reason: no answer in time, no connection, an HTTP error without GraphQL, or a 2xx that is not GraphQL JSON. */
function failureOf(error: Error, response: FetcherResponse | undefined): FetchFailure {
  if (error instanceof SubgraphTimeoutError) return 'timeout';
  if (!response) return 'unreachable';
  return response.ok ? 'invalid_response' : 'http_error';
}

export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #logger: Logger;

  constructor({ name, url, timeoutMs, wrap, logger }: SubgraphSourceOptions) {
    // A deadline per call: a slow subgraph costs its fields, not the whole response.
    super({ url, fetcher: subgraphFetcher({ timeoutMs, ...(wrap ? { wrap } : {}) }) });
    this.#name = name;
    this.#logger = logger;
  }

  /**
   * Forwards the client's Authorization, request id and address on calls made for its operation
   * only: health checks and schema loading (IntrospectAndCompose) are the gateway's own calls.
   */
  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (options.kind !== GraphQLDataSourceRequestKind.INCOMING_OPERATION) return;
    const { request, context } = options;
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    // Replaces whatever the client sent: subgraphs trust the gateway's word, not the client's.
    if (context.clientAddress) request.http?.headers.set('x-forwarded-for', context.clientAddress);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphResponse> {
    const started = performance.now();
    try {
      return await super.process(options);
    } catch (error) {
      if (error instanceof SubgraphAnswer) return error.response;
      throw error;
    } finally {
      gatewayMetrics().subgraphFetchDuration.observe({ subgraph: this.#name }, (performance.now() - started) / 1000);
    }
  }

  /** An HTTP error status with a GraphQL body is still the subgraph's answer; anything else is a failed call. */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const body: unknown = await this.parseBody(response);
    if (!isGraphQLResponse(body)) return new GraphQLError(`HTTP ${response.status} without a GraphQL response`);
    const status = response.status >= 400 && response.status < 500 ? response.status : undefined;
    return new SubgraphAnswer({ ...body, errors: body.errors?.map((e) => this.#relay(e, status)) });
  }

  /** Every failed call (refused, reset, timed out, not GraphQL) ends here: logged with its cause, answered without it. */
  override didEncounterError(error: Error, _request: unknown, response?: FetcherResponse, context?: GatewayContext): never {
    if (error instanceof SubgraphAnswer) throw error;
    gatewayMetrics().subgraphFetchFailures.inc({ subgraph: this.#name, reason: failureOf(error, response) });
    // Calls outside a client request (composing from the running subgraphs) have no request log.
    const log = context?.log ?? this.#logger;
    log.warn({ err: error, subgraph: this.#name, url: this.url }, 'subgraph call failed');
    const message =
      error instanceof SubgraphTimeoutError
      ? `the ${this.#name} service did not answer in time, try again later`
      : `the ${this.#name} service is unavailable, try again later`;
    throw serviceUnavailable(message, this.#name);
  }

  /** The subgraph's error as the client should see it: its own code, and the HTTP status it chose (401, 403, 429...). */
  #relay(error: SubgraphError, status: number | undefined): SubgraphError {
    const code = String(error.extensions?.code ?? '');
    if (REFUSED_GATEWAY_REQUEST.has(code)) {
      return { message: `the ${this.#name} service refused the gateway's request: ${error.message}`, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
    return status ? { ...error, extensions: { ...error.extensions, http: { status } } } : error;
  }
}
