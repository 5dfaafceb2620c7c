// What a request gets when it fails before GraphQL sees it (malformed JSON, a body over the limit,
// an unknown path): the same JSON shape as any GraphQL error, with a code, instead of Express's
// HTML page (which shows a stack trace in development). Never a stack, in any mode.
import type { ErrorRequestHandler, RequestHandler } from 'express';

export const errorBody = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });

/** What body-parser's errors (by their `type`) say was wrong with the request. */
const messages = (bodyLimit: string): Record<string, string> => ({
  'entity.parse.failed': 'the request body is not valid JSON',
  'entity.too.large': `the request body is larger than ${bodyLimit}`,
  'encoding.unsupported': 'the Content-Encoding of the request body is not supported',
  'charset.unsupported': 'the charset of the request body is not supported; send UTF-8',
  'request.size.invalid': 'the request body does not match its Content-Length',
  'request.aborted': 'the request was aborted',
});

/** What the client is told about a body refused for `type` (body-parser's names, also used by lib/server/direct-graphql.ts). */
export const bodyErrorMessage = (bodyLimit: string, type: string | undefined): string => (type && messages(bodyLimit)[type]) || 'bad request';

interface HttpError {
  status: number;
  type?: string;
}

/** A 4xx error from Express or body-parser (http-errors), i.e. the client's mistake. */
const isClientError = (err: unknown): err is HttpError =>
  typeof err === 'object' && err !== null && typeof (err as HttpError).status === 'number' && (err as HttpError).status >= 400 && (err as HttpError).status < 500;

/** Unknown paths: GraphQL is at /graphql, the probes at /health and /ready. */
export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody('not found: the GraphQL endpoint is /graphql', 'NOT_FOUND'));
};

/** The last handler of the app: client mistakes keep their 4xx status as BAD_REQUEST, anything else is a bare 500. */
export function jsonErrors(bodyLimit: string): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (isClientError(err)) {
      req.log.debug({ status: err.status, type: err.type }, 'bad request');
      res.status(err.status).json(errorBody(bodyErrorMessage(bodyLimit, err.type), 'BAD_REQUEST'));
      return;
    }
    req.log.error({ err }, 'request failed');
    res.status(500).json(errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
  };
}
