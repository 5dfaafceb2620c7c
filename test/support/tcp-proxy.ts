// A TCP proxy on a free loopback port that a test owns, to make a server (the shared PostgreSQL)
// unreachable for one service without stopping it for anyone else: `cut()` drops every open
// connection and refuses new ones, `restore()` lets them through again. `retarget()` sends new
// connections elsewhere and leaves open ones where they are, as a load balancer does during a
// rolling update.
import net from 'node:net';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  cut(): void;
  restore(): void;
  /** Connections accepted so far (refused ones while cut included). */
  readonly accepted: number;
  /** New connections go to `to`; open ones stay with the old target. */
  retarget(to: { host: string; port: number }): void;
  close(): Promise<void>;
}

export async function startTcpProxy(first: { host: string; port: number }): Promise<TcpProxy> {
  let target = first;
  const open = new Set<net.Socket>();
  let cut = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cutAll = () => {
    cut = true;
    for (const socket of open) socket.destroy();
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: cutAll,
    restore() {
      cut = false;
    },
    retarget(to) {
      target = to;
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
