// A real HTTP hop in front of a subgraph that the tests can slow down or break while it runs: each
// request is held `delayMs` before it is forwarded (or answered with a failure), so a test sees
// what the gateway does with a subgraph that answers late or not at all.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  url: string;
  /** How long each request waits before it is forwarded; 0: at once. */
  delayMs: number;
  /** 'reset': the connection is destroyed instead of forwarded (after the delay). */
  failure: 'reset' | undefined;
  /** Requests received so far. */
  requests: number;
  /** When (performance.now()) each request was passed on to the subgraph, after its delay. */
  forwarded: number[];
  close(): Promise<void>;
}

/** A proxy to `target` (a subgraph's /graphql URL) on a free port. */
export async function startDelayProxy(target: string): Promise<DelayProxy> {
  const to = new URL(target);
  const state = { delayMs: 0, failure: undefined as DelayProxy['failure'], requests: 0, forwarded: [] as number[] };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        if (state.failure === 'reset') return void res.socket?.destroy();
        state.forwarded.push(performance.now());
        const upstream = http.request(
          { hostname: to.hostname, port: to.port, path: to.pathname, method: req.method, headers: { ...req.headers, host: to.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.socket?.destroy());
        upstream.end(Buffer.concat(chunks));
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as DelayProxy;
}
