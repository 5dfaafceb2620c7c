// POST /graphql served straight from node:http into Apollo Server, without Express's per-request
// machinery (router, body-parser, content negotiation, res.send), for a service whose /graphql
// needs nothing else (a subgraph): what Express gave is kept, the request id, the client address
// by the trusted proxies, the body limit and the same JSON errors. Anything else (another path or
// method, another content type or encoding) goes on to Express, which answers it as before.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import proxyAddress from 'proxy-addr';
import type { Logger } from '../logger.js';
import { bodyErrorMessage, errorBody } from './http-errors.js';
import { identify } from './request-id.js';

/** What a service's context is built from, whichever way the request came in (Express's request has it too). */
export interface ServedRequest {
  headers: IncomingHttpHeaders;
  /** The client's address: the one the nearest trusted proxy saw, else the peer's (as Express's `req.ip`). */
  readonly ip: string | undefined;
  requestId: string;
  log: Logger;
}

export interface DirectGraphQLOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  logger: Logger;
  trustedProxies: string[];
  /** As Express writes it in its messages ('1mb'), and in bytes. */
  bodyLimit: { text: string; bytes: number };
  context(req: ServedRequest): Promise<C>;
}

/** The JSON bodies taken here: body-parser's own type, in UTF-8 (any other charset is Express's to refuse). */
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
  ) {
    super(type);
  }
}

/** The body as text, refused past `limit` bytes (declared or sent) or when it does not match its Content-Length. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && declared > limit) return Promise.reject(new BodyError(413, 'entity.too.large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (error: BodyError) => {
      req.removeAllListeners('data');
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) fail(new BodyError(413, 'entity.too.large'));
      else chunks.push(chunk);
    });
    req.once('end', () => {
      if (declared !== undefined && declared !== received) fail(new BodyError(400, 'request.size.invalid'));
      else resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    req.once('aborted', () => fail(new BodyError(400, 'request.aborted')));
    req.once('error', () => fail(new BodyError(400, 'request.aborted')));
  });
}

/** body-parser's strict JSON: an object or an array, an empty body read as `{}`. */
function parseJson(text: string): unknown {
  const first = text.trimStart()[0];
  if (first === undefined) return {};
  if (first !== '{' && first !== '[') throw new BodyError(400, 'entity.parse.failed');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError(400, 'entity.parse.failed');
  }
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
};

/** A node:http handler that answers POST /graphql with a JSON body and returns true, or returns false having touched nothing. */
export function directGraphQL<C extends BaseContext>(options: DirectGraphQLOptions<C>): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { apollo, logger, bodyLimit } = options;
  // Compiled once, as Express compiles its `trust proxy` setting.
  const trust = proxyAddress.compile(options.trustedProxies);
  const serve = async (req: IncomingMessage, res: ServerResponse, search: string, requestId: string, log: Logger) => {
    let body: unknown;
    try {
      body = parseJson(await readBody(req, bodyLimit.bytes));
    } catch (err) {
      const { status, type } = err as BodyError;
      log.debug({ status, type }, 'bad request');
      sendJson(res, status, errorBody(bodyErrorMessage(bodyLimit.text, type), 'BAD_REQUEST'));
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    let ip: string | undefined;
    const served: ServedRequest = {
      headers: req.headers,
      // Only when asked for: the forwarded chain is parsed at most once.
      get ip() {
        return (ip ??= proxyAddress(req, trust));
      },
      requestId,
      log,
    };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search, body },
      context: () => options.context(served),
    });
    res.statusCode = response.status ?? 200;
    for (const [key, value] of response.headers) res.setHeader(key, value);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (req.method !== 'POST' || path !== '/graphql') return false;
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) return false;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
    const { requestId, log } = identify(req.headers, res, logger);
    serve(req, res, query === -1 ? '' : url.slice(query), requestId, log).catch((err: unknown) => {
      log.error({ err }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
    });
    return true;
  };
}
