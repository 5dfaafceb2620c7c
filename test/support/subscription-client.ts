// Subscribing in tests as the clients do: graphql-ws over WebSocket (Apollo Client, Sandbox) and
// graphql-sse over HTTP, against a gateway's /graphql. Events are collected as they arrive; tests
// wait for a condition on them, never for a time.
import { createClient as createSseClient } from 'graphql-sse';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscription<T = Record<string, any>> {
  events: FormattedExecutionResult<T>[];
  /** Set when the subscription ended (complete, or an error such as a close event). */
  ended: Promise<{ error?: unknown }>;
  /** Resolves with the first event that `match` accepts (already received or still to come). */
  next(match: (event: FormattedExecutionResult<T>) => boolean, what?: string, withinMs?: number): Promise<FormattedExecutionResult<T>>;
  stop(): void;
}

export interface WsConnection {
  client: Client;
  /** Close events of the socket, in order (code and reason). */
  closes: { code: number; reason: string }[];
  /** `extensions` may carry a persisted id (`persistedQuery.sha256Hash`) instead of the text. */
  subscribe<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, extensions?: Record<string, unknown>): Subscription<T>;
  dispose(): Promise<void>;
}

/** How long a test waits for an event before it fails, naming what it waited for. */
const WAIT_MS = 30_000;

function collector<T>(): { sub: Omit<Subscription<T>, 'stop'>; push(e: FormattedExecutionResult<T>): void; end(error?: unknown): void } {
  const events: FormattedExecutionResult<T>[] = [];
  const waiters = new Set<() => void>();
  let endWith: (v: { error?: unknown }) => void = () => {};
  const ended = new Promise<{ error?: unknown }>((resolve) => (endWith = resolve));
  let isEnded = false;
  return {
    sub: {
      events,
      ended,
      next: (match, what = 'an event', withinMs = WAIT_MS) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const found = events.find(match);
            if (found) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(found);
            } else if (isEnded) {
              waiters.delete(check);
              clearTimeout(timer);
              reject(new Error(`the subscription ended before ${what}: ${JSON.stringify(events)}`));
            }
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`no ${what} within ${withinMs} ms; received ${JSON.stringify(events)}`));
          }, withinMs);
          waiters.add(check);
          check();
        }),
    },
    push(e) {
      events.push(e);
      for (const w of [...waiters]) w();
    },
    end(error) {
      isEnded = true;
      endWith({ error });
      for (const w of [...waiters]) w();
    },
  };
}

/** A graphql-ws connection to the gateway, with the token in `connection_init` as Apollo Client sends it; no retries unless asked. */
export function connectWs(httpUrl: string, token?: string, params?: Record<string, unknown>, { retryAttempts = 0 }: { retryAttempts?: number } = {}): WsConnection {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: params ?? (token ? { authorization: `Bearer ${token}` } : {}),
    // With retries, the client reconnects and subscribes again, as Apollo Client's does (a tenth of a
    // second between attempts: the client's own back-off, while the server is away).
    retryAttempts,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
    on: { closed: (event) => void closes.push({ code: (event as { code: number }).code, reason: String((event as { reason?: string }).reason ?? '') }) },
  });
  return {
    client,
    closes,
    subscribe<T>(query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>) {
      const c = collector<T>();
      const stop = client.subscribe<T>(
        { query, variables, ...(extensions ? { extensions } : {}) },
        { next: (e) => c.push(e as FormattedExecutionResult<T>), error: (err) => c.end(err), complete: () => c.end() },
      );
      return { ...c.sub, stop };
    },
    dispose: () => Promise.resolve(client.dispose()).catch(() => {}),
  };
}

/** One subscription over Server-Sent Events (graphql-sse, distinct connections mode). */
export function subscribeSse<T = Record<string, any>>(httpUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Subscription<T> {
  const client = createSseClient({ url: httpUrl, headers: token ? { authorization: `Bearer ${token}` } : {}, retryAttempts: 0 });
  const c = collector<T>();
  const stop = client.subscribe<T>({ query, variables }, { next: (e) => c.push(e as FormattedExecutionResult<T>), error: (err) => c.end(err), complete: () => c.end() });
  return {
    ...c.sub,
    stop: () => {
      stop();
      client.dispose();
    },
  };
}
