// What a subgraph answers while its database cannot be reached (PostgreSQL stopped or out of
// reach, a connection cut, the embedded PGlite closed): SERVICE_UNAVAILABLE with
// `retryAfterSeconds` (HTTP 503 when nothing of the request could be answered), never an internal
// error: the request was fine and nothing was written, so sending it again shortly is right.
import type { BaseContext } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors.js';
import type { ServerExtension } from '../server/extension.js';

/** What a client is told to wait: /ready turns 200 again within about a second of the database's return. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Prisma's codes for a database it cannot reach, lost, timed out on or has no connection for. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
/** What Prisma's driver adapters call a connection failure (`DriverAdapterError.cause.kind`). */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** Socket errors of the connection itself. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * SQLSTATEs of a server going away or not taking connections: class 08 (connection exception),
 * 57P01-57P03 (shut down by an administrator, after a crash, or not accepting connections yet), 53300 (too many connections).
 */
const SQL_STATES = /^(08...|57P0[123]|53300)$/;
/** What node-postgres, its pool and PGlite say when the connection is gone (they give no code). */
const MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'PGlite is closed',
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
}

/** Whether `err` (or what caused it) says the database cannot be reached, rather than that it refused the statement. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as ErrorLike | undefined, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const adapter = e.meta?.driverAdapterError?.cause;
    if (typeof e.code === 'string' && (PRISMA_CODES.has(e.code) || SOCKET_CODES.has(e.code) || SQL_STATES.test(e.code))) return true;
    if (typeof adapter?.kind === 'string' && ADAPTER_KINDS.has(adapter.kind)) return true;
    if (typeof adapter?.originalCode === 'string' && SQL_STATES.test(adapter.originalCode)) return true;
    if (typeof e.message === 'string' && MESSAGES.some((m) => (e!.message as string).includes(m))) return true;
    e = (e.originalError ?? e.cause) as ErrorLike | undefined;
  }
  return false;
}

const unavailable = (path: GraphQLFormattedError['path'], locations: GraphQLFormattedError['locations']): GraphQLFormattedError => ({
  message: 'the database of this service cannot be reached; try again shortly',
  ...(locations ? { locations } : {}),
  ...(path ? { path } : {}),
  extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
});

/** The server extension every subgraph mounts: database outages answered as SERVICE_UNAVAILABLE. */
export function databaseOutage<C extends BaseContext>(): ServerExtension<C> {
  return {
    // HTTP 503 when the whole request failed so: lib/server/plugins/unavailable.ts.
    translateError: (formatted, error) => (isDatabaseUnavailable(error) ? unavailable(formatted.path, formatted.locations) : undefined),
  };
}
