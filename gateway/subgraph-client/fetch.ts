// The gateway's HTTP client for subgraph calls: node:http over kept-alive connections, with one
// deadline per call that covers the whole answer; features may wrap each call (deduplication,
// dedup.ts). Node's fetch (undici behind the WHATWG API) costs about twice the CPU per
// call, and a signal per call (AbortSignal.timeout) adds to it.
import http, { type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { traceHeaders } from '../../lib/telemetry/tracing.js';
import type { SubgraphAnswer, SubgraphCall, SubgraphInit } from './types.js';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

/** Thrown when a call outlives its deadline; named like the error of AbortSignal.timeout. */
export class SubgraphTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

// Idle connections are closed after 4 s, long before a subgraph closes them (65 s): the gateway
// never reuses a socket the subgraph is closing (ECONNRESET, apollographql/federation#2313).
const IDLE_SOCKET_MS = 4_000;

/** `[name, value]` pairs from Node's flat rawHeaders list (repeated headers stay separate). */
function headerPairs(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

export interface FetcherOptions {
  /** How long a call may take, response body included. */
  timeoutMs: number;
  /** Wraps each call (the features' subgraphCall hooks, gateway/feature.ts); the call itself when none. */
  wrap?: (call: SubgraphCall) => SubgraphCall;
}

export function subgraphFetcher({ timeoutMs, wrap = (call) => call }: FetcherOptions): Fetcher {
  const agents = {
    http: new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  const call: SubgraphCall = (url, init) =>
    new Promise<SubgraphAnswer>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = (secure ? https : http).request(target, {
        method: init?.method ?? 'POST',
        // The active span is gateway.fetch (Apollo Gateway's): the subgraph continues its trace.
        // Added here, inside the features' wrappers (after the dedupe key was taken), so that traced calls still share answers.
        headers: { ...(init?.headers as OutgoingHttpHeaders | undefined), ...traceHeaders() },
        agent: secure ? agents.https : agents.http,
      });
      let timedOut: SubgraphTimeoutError | undefined;
      const deadline = setTimeout(() => {
        timedOut = new SubgraphTimeoutError(`no answer within ${timeoutMs} ms`);
        request.destroy(timedOut);
      }, timeoutMs);
      // Settles once: later calls (an error after a close) change nothing.
      const fail = (error: Error) => {
        clearTimeout(deadline);
        reject(timedOut ?? error);
      };
      request.on('error', fail);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('close', () => {
          if (!response.complete) fail(new Error('the connection closed before the answer was complete'));
        });
        response.on('end', () => {
          clearTimeout(deadline);
          const status = response.statusCode ?? 0;
          resolve({
            status,
            statusText: response.statusMessage ?? '',
            headers: headerPairs(response.rawHeaders),
            body: status === 204 || status === 304 ? null : Buffer.concat(chunks),
          });
        });
      });
      request.end(init?.body as string | undefined);
    });
  const wrapped = wrap(call);
  const fetcher = async (url: string, init?: SubgraphInit) => {
    const answer = await wrapped(url, init);
    // Each caller reads its own Response; a status or header the Response API refuses rejects.
    return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  };
  return fetcher as unknown as Fetcher;
}
