// `npm start` itself, on a fresh clone as a new user runs it: it generates and builds what it needs
// (Prisma clients, service bundles, the database template, the typed operations and the web shop),
// starts five processes on migrated and seeded embedded databases, keeps the data across restarts
// and stops cleanly on Ctrl-C. (It prints how long the first answer took; timings are reported, not
// asserted, because these machines are noisy: `npm run bench:start` measures them.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshClone } from '../../tools/fresh-clone.js';
import { graphql } from '../support/harness.js';

const BASE_PORT = 14_000 + Math.floor(Math.random() * 500) * 10;
const ports = { GATEWAY_PORT: BASE_PORT, USERS_PORT: BASE_PORT + 1, CATALOG_PORT: BASE_PORT + 2, ORDERS_PORT: BASE_PORT + 3, REVIEWS_PORT: BASE_PORT + 4 };

function start(clone: string, dataDir: string): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(clone, 'scripts/start.ts')], {
    cwd: clone,
    env: { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), DATA_DIR: dataDir, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => output.includes('Commerce supergraph ready') && resolve());
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, ready };
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });

describe('npm start', () => {
  let clone: string;
  let dataDir: string;
  afterAll(async () => {
    for (const dir of [clone, dataDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  // A first start does some 20 s of CPU work (generation, bundling, the initdb, seeding, the shop's
  // build) before the restart's 6 s: minutes on a machine starved of CPU.
  it('starts a fresh clone, builds the web shop, keeps the data across a restart and stops cleanly on Ctrl-C', async () => {
    clone = freshClone();
    dataDir = await mkdtemp(path.join(tmpdir(), 'commerce-start-'));
    const gateway = `http://localhost:${ports.GATEWAY_PORT}/graphql`;
    const query = '{ products(first: 1) { totalCount edges { node { name reviewCount } } } }';

    const began = Date.now();
    const first = start(clone, dataDir);
    await first.ready;
    const answer = await graphql(gateway, query);
    const seconds = (Date.now() - began) / 1000;
    expect(answer.data!.products.totalCount).toBe(320);
    console.log(`npm start: first answer ${seconds.toFixed(1)} s after launch, on a fresh clone`);
    expect(first.output()).toMatch(/ready in [\d.]+ s, the web shop built in [\d.]+ s more/);
    expect(first.output()).toContain(gateway);
    // The web shop, served by the gateway at its root.
    const shop = new URL('/', gateway).href;
    expect(first.output()).toContain(shop);
    const page = await fetch(shop);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"></div>');
    const token = (await graphql(gateway, 'mutation { register(input: { email: "kept@example.com", password: "kept-password", name: "Kept" }) { token } }')).data!.register.token;
    expect(token).toEqual(expect.any(String));

    expect(await stop(first.child)).toBe(0);
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://localhost:${port}/health`)).rejects.toThrow();
    }

    const second = start(clone, dataDir);
    await second.ready;
    const me = await graphql(gateway, '{ me { email } }', {}, token);
    expect(me.data!.me).toEqual({ email: 'kept@example.com' });
    expect((await graphql(gateway, query)).data!.products.totalCount).toBe(320);
    expect(second.output()).not.toContain('web shop built'); // nothing changed: nothing rebuilt
    expect(await stop(second.child)).toBe(0);
  }, 300_000);
});
