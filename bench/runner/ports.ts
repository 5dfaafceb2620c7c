// Ports for a run: a free one the system hands out, or a random block of consecutive ones, so that
// a benchmark does not collide with a development stack or a teammate's run on the same machine.
import { createServer } from 'node:net';

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The first of `size` consecutive ports, at one of 400 places from `from` on. */
export const randomPortBlock = (from: number, size: number) => from + Math.floor(Math.random() * 400) * size;
