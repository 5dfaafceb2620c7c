// A request id follows a request from the gateway into every subgraph and into every log line.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Keeps a caller's id when it looks sane (so it can be traced), otherwise makes a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}

/** The request's id (echoed in the response) and its logger, whose every line carries that id. */
export function identify(headers: IncomingHttpHeaders, res: ServerResponse, logger: Logger): { requestId: string; log: Logger } {
  const requestId = requestIdFrom(headers[REQUEST_ID_HEADER]);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  return { requestId, log: logger.child({ requestId }) };
}
