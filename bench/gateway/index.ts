// `npm run bench:gateway`: this gateway side by side with Hive Gateway and a bare @apollo/gateway,
// on the same four subgraphs and the same composed supergraph. Checks that all three return the
// same data, loads each with the same operations in alternating rounds, and prints requests/s,
// p50, p99, CPU per request of every process and the ratios, and what the access rules and the cost
// budget add to this gateway's CPU per request. `--smoke` runs it in seconds (CI).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import { SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { parseFlags } from '../runner/flags.js';
import { graphqlUrl, post } from '../runner/graphql.js';
import { cpuMs, postgresPids } from '../runner/proc.js';
import { startService, stopAll, type Service } from '../runner/services.js';
import { Stack } from '../runner/stack.js';
import { mean } from '../runner/stats.js';
import { datedHeader } from '../runner/table.js';
import { printAccessCost } from './access-cost.js';
import { load, type LoadResult } from './load.js';
import { memoryAfterGc, type Memory } from './heap.js';
import { printMemory, printResults, type Measurement } from './report.js';
import { workloads, type Workload } from './workload.js';

const settings = parseFlags('npm run bench:gateway: this gateway beside Hive Gateway and a bare Apollo Gateway on the same subgraphs.', {
  smoke: { type: 'boolean', help: 'a run of seconds with small defaults, to see that it works (CI)' },
  seconds: { type: 'number', default: 15, smoke: 1, help: 'seconds per measured run' },
  warmup: { type: 'number', default: 5, smoke: 0, help: 'seconds of warm-up per gateway and operation in the first round' },
  rounds: { type: 'number', default: 3, smoke: 1, help: 'rounds, each gateway going first in turn; the figures are medians' },
  connections: { type: 'number', default: 32, smoke: 4, help: 'concurrent connections of the load' },
  scale: { type: 'number', default: 10, smoke: 0.25, help: 'SEED_SCALE of the demo data' },
});
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
// Ports from a block of 20: this gateway first, the subgraphs, the other gateways, the inspectors.
const stack = new Stack(15_000, 20);
const gatewayPorts = { 'Hive Gateway': stack.basePort + 5, 'bare Apollo': stack.basePort + 6 };
// This gateway and the subgraphs listen for the inspector protocol on loopback, only so that the
// memory figures can be read after a full garbage collection (heap.ts).
const inspectPorts: Record<string, number> = Object.fromEntries(['this gateway', ...SERVICE_NAMES].map((name, i) => [name, stack.basePort + 10 + i]));
const inspect = (name: string) => `--inspect=127.0.0.1:${inspectPorts[name]}`;

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

async function startGateways(supergraphFile: string): Promise<Record<string, Service>> {
  // Free-form operations and no response cache, as the other gateways run: the gateway's own work is measured.
  const production = { ...stack.productionGatewayEnv(), RESPONSE_CACHE: 'false' };
  const [ours, hive, apollo] = await Promise.all([
    stack.startGateway({ name: 'this gateway', supergraphFile, env: { RESPONSE_CACHE: 'false' }, nodeFlags: [inspect('this gateway')] }),
    startService(
      'Hive Gateway',
      ['node_modules/@graphql-hive/gateway/dist/bin.js', 'supergraph', supergraphFile, '--port', String(gatewayPorts['Hive Gateway']), '--config-path', 'bench/gateway/hive.config.ts'],
      production,
      graphqlUrl(gatewayPorts['Hive Gateway']),
    ),
    startService('bare Apollo', ['--import', 'tsx', 'bench/gateway/bare-apollo.ts', supergraphFile, String(gatewayPorts['bare Apollo'])], production, graphqlUrl(gatewayPorts['bare Apollo'])),
  ]);
  return { [ours.name]: ours, [hive.name]: hive, [apollo.name]: apollo };
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
  console.log(datedHeader('This gateway beside Hive Gateway and a bare Apollo Gateway'));
  console.log(`Subgraphs on ${databases ? 'PostgreSQL' : 'PGlite'}, SEED_SCALE=${settings.scale}; ${settings.connections} connections, ` +
    `${settings.warmup} s warm-up, ${settings.seconds} s per run, ${settings.rounds} round(s)`);
  const subgraphs = await stack.startSubgraphs({ seedScale: settings.scale, dataDir, databases: databases?.urls, nodeFlags: (name) => [inspect(name)] });
  services.push(...subgraphs);
  // The same composed supergraph for all three, routed to this run's subgraphs.
  let supergraph = await readFile(SUPERGRAPH_PATH, 'utf8');
  for (const name of SERVICE_NAMES) {
    supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*`), `$1${stack.subgraphUrl(name)}`);
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
        if (round === 0 && settings.warmup > 0) await measure(g, subgraphs, w, token, settings.warmup);
        results.push(await measure(g, subgraphs, w, token, settings.seconds));
      }
    }
    console.log(`round ${round + 1} of ${settings.rounds} done`);
  }
  printResults(results, subgraphs.map((s) => s.name));
  const oursPerRequest = new Map(loads.map((w) => [w.name, mean(results.filter((r) => r.gateway === ours.name && r.workload === w.name).map((r) => r.cpuPerRequest.gateway!))]));
  await printAccessCost(supergraph, loads, oursPerRequest);

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
    const seconds = Math.max(1, Math.round(perWorkload / Math.max(1, mean(results.filter((r) => r.gateway === ours.name && r.workload === w.name).map((r) => r.requestsPerSecond)))));
    await measure(ours, subgraphs, w, token, seconds);
  }
  const afterTwice = await memory();
  printMemory(served, afterRun, afterTwice);
  console.log(`\nbench:gateway finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await stopAll(services);
  await databases?.drop();
  await rm(dataDir, { recursive: true, force: true });
}
