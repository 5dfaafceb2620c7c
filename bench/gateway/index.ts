// `npm run bench:gateway`: this gateway side by side with Hive Gateway and a bare @apollo/gateway,
// on the same four subgraphs and the same composed supergraph. Checks that all three return the
// same data, loads each with the same operations in alternating rounds, and prints requests/s,
// p50, p99, CPU per request of every process and the ratios. `--smoke` runs it in seconds (CI).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateSigningKey, keyEnvOf, type KeyHolder } from '../../lib/security/keys.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import { databaseUrlVar, portVar, SERVICE_NAMES, urlVar, type ServiceName } from '../../lib/services.js';
import { load, type LoadResult } from './load.js';
import { memoryAfterGc, type Memory } from './heap.js';
import { cpuMs, postgresPids, startService, type Service } from './processes.js';
import { printMemory, printResults, type Measurement } from './report.js';
import { workloads, type Workload } from './workload.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    scale: { type: 'string' },
  },
});
const smoke = args.smoke!;
const settings = {
  seconds: Number(args.seconds ?? (smoke ? 1 : 15)),
  warmupSeconds: Number(args.warmup ?? (smoke ? 0 : 5)),
  rounds: Number(args.rounds ?? (smoke ? 1 : 3)),
  connections: Number(args.connections ?? (smoke ? 4 : 32)),
  seedScale: Number(args.scale ?? (smoke ? 0.25 : 10)),
};
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
// Keys made for this run: production refuses the committed development keys.
const keys = { users: generateSigningKey(), orders: generateSigningKey() };
const BASE_PORT = 15_000 + Math.floor(Math.random() * 400) * 20;
const ports = { users: BASE_PORT + 1, catalog: BASE_PORT + 2, orders: BASE_PORT + 3, reviews: BASE_PORT + 4 } satisfies Record<ServiceName, number>;
const gatewayPorts = { 'this gateway': BASE_PORT, 'Hive Gateway': BASE_PORT + 5, 'bare Apollo': BASE_PORT + 6 };
// This gateway and the subgraphs listen for the inspector protocol on loopback, only so that the
// memory figures can be read after a full garbage collection (heap.ts).
const inspectPorts: Record<string, number> = { 'this gateway': BASE_PORT + 10, users: BASE_PORT + 11, catalog: BASE_PORT + 12, orders: BASE_PORT + 13, reviews: BASE_PORT + 14 };
const inspect = (name: string) => `--inspect=127.0.0.1:${inspectPorts[name]}`;
const subgraphUrl = (name: ServiceName) => `http://localhost:${ports[name]}/graphql`;

async function postgres(): Promise<{ urls: Record<ServiceName, string>; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const urls = {} as Record<ServiceName, string>;
  const names = SERVICE_NAMES.map((name) => `bench_gateway_${name}`);
  for (const [i, name] of SERVICE_NAMES.entries()) {
    await admin.query(`DROP DATABASE IF EXISTS "${names[i]}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${names[i]}"`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${names[i]}`;
    urls[name] = url.toString();
  }
  return {
    urls,
    drop: async () => {
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

const sharedEnv = (holder: KeyHolder): NodeJS.ProcessEnv => ({
  LOG_LEVEL: 'warn',
  ...keyEnvOf(holder, keys),
  ...Object.fromEntries(SERVICE_NAMES.map((n) => [urlVar(n), subgraphUrl(n)])),
});

async function startSubgraphs(databases: Record<ServiceName, string> | undefined, dataDir: string) {
  return Promise.all(
    SERVICE_NAMES.map((name) =>
      startService(
        name,
        [inspect(name), '--import', 'tsx', `subgraphs/${name}/index.ts`],
        {
          ...sharedEnv(name),
          NODE_ENV: 'development', // seeding demo data is a development feature
          SEED: 'true',
          SEED_SCALE: String(settings.seedScale),
          DATA_DIR: dataDir,
          [portVar(name)]: String(ports[name]),
          ...(databases ? { [databaseUrlVar(name)]: databases[name] } : {}),
        },
        subgraphUrl(name),
      ),
    ),
  );
}

async function startGateways(supergraphFile: string): Promise<Record<string, Service>> {
  const url = (port: number) => `http://localhost:${port}/graphql`;
  // Free-form operations and no response cache, as the other gateways run: the gateway's own work is measured.
  const production = { ...sharedEnv('gateway'), NODE_ENV: 'production', OPERATIONS: 'any', RESPONSE_CACHE: 'false' };
  const [ours, hive, apollo] = await Promise.all([
    startService('this gateway', [inspect('this gateway'), '--import', 'tsx', 'gateway/index.ts'], { ...production, GATEWAY_PORT: String(gatewayPorts['this gateway']), SUPERGRAPH_PATH: supergraphFile }, url(gatewayPorts['this gateway'])),
    startService(
      'Hive Gateway',
      ['node_modules/@graphql-hive/gateway/dist/bin.js', 'supergraph', supergraphFile, '--port', String(gatewayPorts['Hive Gateway']), '--config-path', 'bench/gateway/hive.config.ts'],
      production,
      url(gatewayPorts['Hive Gateway']),
    ),
    startService('bare Apollo', ['--import', 'tsx', 'bench/gateway/bare-apollo.ts', supergraphFile, String(gatewayPorts['bare Apollo'])], production, url(gatewayPorts['bare Apollo'])),
  ]);
  return { [ours.name]: ours, [hive.name]: hive, [apollo.name]: apollo };
}

async function post(url: string, body: unknown, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

/** Every gateway must answer every workload with the same data and no errors, or the figures mean nothing. */
async function checkIdenticalData(gateways: Service[], loads: Workload[], token: string) {
  for (const w of loads) {
    const answers = await Promise.all(gateways.map((g) => post(g.url, { query: w.query, variables: w.variables }, w.authenticated ? token : undefined)));
    const reference = JSON.stringify(answers[0]!.data);
    for (const [i, answer] of answers.entries()) {
      if (answer.errors?.length || !answer.data) throw new Error(`${gateways[i]!.name}, ${w.name}: errors ${JSON.stringify(answer.errors)}`);
      if (JSON.stringify(answer.data) !== reference) throw new Error(`${gateways[i]!.name}, ${w.name}: data differs from ${gateways[0]!.name}'s`);
    }
  }
  console.log(`✔ all ${gateways.length} gateways return identical data for all ${loads.length} operations`);
}

/** CPU milliseconds so far of each process, and of each PostgreSQL server process by pid. */
function cpuOf(processes: Service[]) {
  const figures: Record<string, number> = {};
  for (const p of processes) figures[p.name] = cpuMs(p.pid);
  const postgres = new Map<number, number>();
  for (const pid of postgresPids()) {
    try {
      postgres.set(pid, cpuMs(pid));
    } catch {
      // the backend ended meanwhile
    }
  }
  return { figures, postgres };
}

/** PostgreSQL's share counts only the processes alive at both ends of a run (backends come and go). */
function postgresDelta(before: Map<number, number>, after: Map<number, number>) {
  let sum = 0;
  for (const [pid, ms] of after) if (before.has(pid)) sum += ms - before.get(pid)!;
  return sum;
}

async function measure(gateway: Service, subgraphs: Service[], w: Workload, token: string, seconds: number): Promise<Measurement & LoadResult> {
  const body = JSON.stringify({ query: w.query, variables: w.variables });
  const headers: Record<string, string> = w.authenticated ? { authorization: `Bearer ${token}` } : {};
  const expectBody = await (await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).text();
  const before = cpuOf([gateway, ...subgraphs]);
  const result = await load(gateway.url, body, headers, { connections: settings.connections, seconds, expectBody });
  const after = cpuOf([gateway, ...subgraphs]);
  const perRequest = (ms: number) => ms / Math.max(1, result.requests);
  const cpuPerRequest: Record<string, number> = Object.fromEntries(
    Object.keys(before.figures).map((k) => [k === gateway.name ? 'gateway' : k, perRequest(after.figures[k]! - before.figures[k]!)]),
  );
  cpuPerRequest.postgres = perRequest(postgresDelta(before.postgres, after.postgres));
  return { gateway: gateway.name, workload: w.name, cpuPerRequest, ...result };
}

const started = Date.now();
const databases = await postgres();
const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-gateway-'));
const services: Service[] = [];
try {
  console.log(`Subgraphs on ${databases ? 'PostgreSQL' : 'PGlite'}, SEED_SCALE=${settings.seedScale}; ${settings.connections} connections, ` +
    `${settings.warmupSeconds} s warm-up, ${settings.seconds} s per run, ${settings.rounds} round(s)`);
  const subgraphs = await startSubgraphs(databases?.urls, dataDir);
  services.push(...subgraphs);
  // The same composed supergraph for all three, routed to this run's subgraphs.
  let supergraph = await readFile(SUPERGRAPH_PATH, 'utf8');
  for (const name of SERVICE_NAMES) {
    supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*`), `$1${subgraphUrl(name)}`);
  }
  const supergraphFile = path.join(dataDir, 'supergraph.graphql');
  await writeFile(supergraphFile, supergraph);
  const gateways = await startGateways(supergraphFile);
  services.push(...Object.values(gateways));
  const ours = gateways['this gateway']!;
  const all = [ours, gateways['Hive Gateway']!, gateways['bare Apollo']!];
  console.log(`started in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const login = await post(ours.url, { query: 'mutation { login(email: "alice@example.com", password: "demo-alice-1") { token } }' });
  const token = login.data?.login?.token as string;
  if (!token) throw new Error(`login failed: ${JSON.stringify(login.errors)}`);
  const first = await post(ours.url, { query: '{ products(first: 1) { edges { node { id } } } }' });
  const loads = workloads(first.data.products.edges[0].node.id as string);
  await checkIdenticalData(all, loads, token);

  const results: (Measurement & LoadResult)[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    for (const w of loads) {
      // Alternate who goes first, so no gateway always runs on a warmer (or hotter) machine.
      const order = all.map((_, i) => all[(i + round) % all.length]!);
      for (const g of order) {
        if (round === 0 && settings.warmupSeconds > 0) await measure(g, subgraphs, w, token, settings.warmupSeconds);
        results.push(await measure(g, subgraphs, w, token, settings.seconds));
      }
    }
    console.log(`round ${round + 1} of ${settings.rounds} done`);
  }
  printResults(results, subgraphs.map((s) => s.name));

  // Memory: after the run, then after as many requests again to this gateway.
  const memory = async () => {
    const figures: Record<string, Memory> = {};
    for (const s of [ours, ...subgraphs]) figures[s.name] = await memoryAfterGc(s.pid, inspectPorts[s.name]!);
    return figures;
  };
  const afterRun = await memory();
  const served = results.filter((r) => r.gateway === ours.name).reduce((sum, r) => sum + r.requests, 0);
  const perWorkload = Math.ceil(served / loads.length);
  for (const w of loads) {
    const seconds = Math.max(1, Math.round(perWorkload / Math.max(1, avg(results.filter((r) => r.gateway === ours.name && r.workload === w.name).map((r) => r.requestsPerSecond)))));
    await measure(ours, subgraphs, w, token, seconds);
  }
  const afterTwice = await memory();
  printMemory(served, afterRun, afterTwice);
  console.log(`\nbench:gateway finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await Promise.all(services.map((s) => s.stop()));
  await databases?.drop();
  await rm(dataDir, { recursive: true, force: true });
}

function avg(values: number[]) {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}
