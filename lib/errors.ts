// The errors users see: GraphQLErrors with an `extensions.code` clients can switch on.
import { GraphQLError, type ASTNode } from 'graphql';

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** An open subscription whose operation the gateway's new supergraph no longer serves. */
  SUBSCRIPTION_INVALIDATED_BY_SCHEMA_CHANGE: 'SUBSCRIPTION_INVALIDATED_BY_SCHEMA_CHANGE',
  /** An open subscription that could not be resumed from where it was: some of its events may be missing. */
  EVENTS_MISSED: 'EVENTS_MISSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const error = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, httpStatus?: number) =>
  new GraphQLError(message, { extensions: { code, ...extensions, ...(httpStatus ? { http: { status: httpStatus } } : {}) } });

/** `field` names the offending input, e.g. `input.items[0].quantity`. */
export const badUserInput = (message: string, field?: string) =>
  error(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (what: string, id: string) => error(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} not found`);
export const unauthenticated = (message = 'authentication required: send Authorization: Bearer <token>') =>
  error(ErrorCode.UNAUTHENTICATED, message, {}, 401);
export const forbidden = (message = 'not allowed') => error(ErrorCode.FORBIDDEN, message);
export const conflict = (message: string) => error(ErrorCode.CONFLICT, message);
export const outOfStock = (message: string, field?: string) => error(ErrorCode.OUT_OF_STOCK, message, field ? { field } : {});
/** `retryAfterSeconds` says when the client may try again. */
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  error(ErrorCode.TOO_MANY_REQUESTS, message, { retryAfterSeconds });
/**
 * `serviceName` names the service that could not be reached (the gateway sets it for its subgraphs);
 * `retryAfterSeconds`, when known, says when sending the request again is worth it.
 */
export const serviceUnavailable = (message: string, serviceName?: string, retryAfterSeconds?: number) =>
  error(ErrorCode.SERVICE_UNAVAILABLE, message, { ...(serviceName ? { serviceName } : {}), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
/** An operation over a limit (lib/security/operation-limits.ts): refused like an invalid one, before anything runs. */
export const operationRefused = (message: string, nodes?: readonly ASTNode[]) =>
  new GraphQLError(message, { nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
/**
 * Why the gateway's access rules denied a field or an operation, as Apollo Router names it: in
 * `extensions.reason`. The code stays the one clients switch on for access: UNAUTHENTICATED for a
 * caller without a token, FORBIDDEN for one whose token does not grant it.
 */
export const UNAUTHORIZED_FIELD_OR_TYPE = 'UNAUTHORIZED_FIELD_OR_TYPE';
const accessCode = (authenticated: boolean) => (authenticated ? ErrorCode.FORBIDDEN : ErrorCode.UNAUTHENTICATED);
/** A field the gateway took out of the operation (the schemas' access rules), at its path (`@` for the items of a list). */
export const unauthorizedField = (path: readonly string[], authenticated: boolean) =>
  new GraphQLError('Unauthorized field or type', { path, extensions: { code: accessCode(authenticated), reason: UNAUTHORIZED_FIELD_OR_TYPE } });
/** The whole operation refused for the fields it selects that the caller may not read (`paths`): HTTP 401 without a token, 403 with one. */
export const unauthorizedOperation = (paths: readonly (readonly string[])[], authenticated: boolean) =>
  error(accessCode(authenticated), `Unauthorized field or type at ${paths.map((p) => p.join('.')).join(', ')}`, { reason: UNAUTHORIZED_FIELD_OR_TYPE, paths }, authenticated ? 403 : 401);
/** Ends an open subscription that the new supergraph no longer serves; `why` is what validation said. */
export const subscriptionInvalidated = (why: string) =>
  error(ErrorCode.SUBSCRIPTION_INVALIDATED_BY_SCHEMA_CHANGE, `the gateway's schema changed and this subscription is no longer valid: ${why}`);
/** Not a request this endpoint runs (a malformed or oversize batch): Apollo Server's own code for its refusals, HTTP 400. */
export const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
/** Our fault, not the client's; the message is masked in production like any internal error. */
export const internalError = (message: string) => error(ErrorCode.INTERNAL_SERVER_ERROR, message);

/** Codes whose messages are meant for clients; anything else is masked in production. */
export const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_ID_REQUIRED',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);
