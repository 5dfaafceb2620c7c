// A service stopped with SIGTERM, as Kubernetes, compose and `npm start` stop it, in the modes users
// run (not NODE_ENV=test, where Apollo Server installs no signal handlers of its own): it finishes,
// closes what it holds (a subgraph its embedded database) and exits with code 0, not by the hard
// stop of lib/server/main.ts (code 1 after 10 s).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, graphql, keyEnv, startServiceProcess, type ServiceProcess } from '../support/harness.js';

/** Sends SIGTERM and resolves with how the process ended. */
function terminate({ child }: ServiceProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.kill('SIGTERM');
  });
}

describe('a service stopped with SIGTERM', () => {
  it.each(['development', 'production'])('a subgraph in %s closes its database and exits with code 0', async (mode) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'shutdown-'));
    try {
      const port = await freePort();
      const start = () =>
        startServiceProcess('subgraphs/catalog/index.ts', {
          ...keyEnv('catalog'),
          NODE_ENV: mode,
          CATALOG_PORT: String(port),
          DATA_DIR: dataDir,
          // Production refuses the demo data.
          ...(mode === 'production' ? {} : { SEED: 'true', SEED_SCALE: '0.1' }),
        });
      const url = `http://localhost:${port}/graphql`;
      const categories = async () => ((await graphql(url, '{ categories { id } }')).data?.categories as unknown[]).length;
      const first = await start();
      const seeded = await categories();
      if (mode === 'development') expect(seeded).toBeGreaterThan(0);
      expect(await terminate(first), first.output()).toEqual({ code: 0, signal: null });
      // Closed cleanly: the same files open again and hold the same data.
      const again = await start();
      try {
        expect(await categories()).toBe(seeded);
      } finally {
        expect(await terminate(again), again.output()).toEqual({ code: 0, signal: null });
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the gateway in production drains and exits with code 0', async () => {
    const port = await freePort();
    const gateway = await startServiceProcess('gateway/index.ts', { ...keyEnv('gateway'), NODE_ENV: 'production', OPERATIONS: 'any', GATEWAY_PORT: String(port) });
    expect((await graphql(`http://localhost:${port}/graphql`, '{ __typename }')).status).toBe(200);
    expect(await terminate(gateway), gateway.output()).toEqual({ code: 0, signal: null });
  });
});
