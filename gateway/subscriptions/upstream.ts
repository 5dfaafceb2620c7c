// The gateway's subscriptions to subgraphs: graphql-ws over WebSocket to the subgraph's own
// /graphql, one connection per token and subgraph, shared by every stream with that token (the
// token travels in `connection_init`, so the subgraph checks access as for any request). A connection that drops
// (a subgraph restarting, a replica going away) is opened again and its subscriptions sent again,
// each with the last event id its stream had (service.ts), so that the subgraph replays what came
// meanwhile. When the subgraph stays away (about a minute), the subscription ends with an error
// the client can act on.
import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from '../../lib/logger.js';
import { REQUEST_ID_HEADER } from '../../lib/server/request-id.js';

export interface UpstreamOptions {
  /** Sent in `connection_init`: the client's Authorization and the request id. */
  connectionParams: Record<string, string>;
  log: Logger;
  /** Attempts to reconnect before the subscriptions end with an error. */
  retryAttempts?: number;
}

/**
 * Attempts to reconnect before a stream ends with an error: about a minute of them, long enough for
 * a killed process to be restarted (seconds to tens of seconds), so that clients notice nothing.
 */
const RETRY_ATTEMPTS = 32;

/** Waits 250 ms, 500 ms, 1 s, then 2 s between attempts, with jitter so replicas do not reconnect in step. */
const backoff = (retries: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(2_000, 250 * 2 ** retries) * (0.75 + Math.random() / 2)));

const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws');

export class Upstream {
  readonly #clients = new Map<string, Client>();
  readonly #options: UpstreamOptions;

  constructor(options: UpstreamOptions) {
    this.#options = options;
  }

  #client(url: string): Client {
    let client = this.#clients.get(url);
    if (!client) {
      const { log } = this.#options;
      client = createClient({
        url: wsUrl(url),
        webSocketImpl: WebSocket,
        connectionParams: this.#options.connectionParams,
        lazy: true,
        retryAttempts: this.#options.retryAttempts ?? RETRY_ATTEMPTS,
        retryWait: backoff,
        // Any drop is worth another attempt: the subgraph may be restarting.
        shouldRetry: () => true,
        on: {
          closed: (event) => log.debug({ url, code: (event as { code?: number }).code }, 'subgraph subscription connection closed'),
        },
      });
      this.#clients.set(url, client);
    }
    return client;
  }

  /** The subgraph's events for this operation; throws when the subgraph cannot be reached any more. */
  subscribe(url: string, payload: SubscribePayload): AsyncIterableIterator<FormattedExecutionResult> {
    return this.#client(url).iterate(payload);
  }

  async dispose(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    // dispose() rejects when a connection attempt is failing at that moment (the subgraph is down):
    // there is nothing left to close then.
    await Promise.all(clients.map((c) => Promise.resolve(c.dispose()).catch(() => {})));
  }
}

/**
 * The subgraph connections of this gateway, one Upstream per token (anonymous streams share one),
 * kept while a stream uses it and closed with the last.
 */
export class UpstreamPool {
  readonly #byToken = new Map<string, { upstream: Upstream; users: number }>();

  /** The Upstream for `authorization`, opened (lazily) with this request id if it is new; release() when done with it. */
  acquire(authorization: string | undefined, requestId: string, log: Logger): { upstream: Upstream; release(): void } {
    const key = authorization ?? '';
    let entry = this.#byToken.get(key);
    if (!entry) {
      const upstream = new Upstream({ connectionParams: { ...(authorization ? { authorization } : {}), [REQUEST_ID_HEADER]: requestId }, log });
      entry = { upstream, users: 0 };
      this.#byToken.set(key, entry);
    }
    entry.users += 1;
    const held = entry;
    let released = false;
    return {
      upstream: held.upstream,
      release: () => {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.users === 0 && this.#byToken.get(key) === held) {
          this.#byToken.delete(key);
          void held.upstream.dispose();
        }
      },
    };
  }
}
