// `npm run bench:gateway`: this gateway side by side with Hive Gateway (its default JavaScript
// runtime and Hive Router's Rust query planner) and a bare @apollo/gateway, on the same four
// subgraphs and the same composed supergraph; with `--baseline <ref>`, also an earlier commit's
// gateway on that commit's own subgraphs. Checks that all return the same data, loads each with the
// same operations (varied, then repeated) in alternating rounds, and prints requests/s, p50, p99,
// CPU per request of every process and the ratios, what the access rules and the cost budget add
// to this gateway's CPU per request; then the first-payload latency of the deferred
// product page against the undeferred one, reviews slowed (defer.ts). `--smoke` runs it in seconds (CI).
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
import { checkOutBaseline, type Baseline } from './baseline.js';
import { measureDeferred, printDeferred, startSlowedGateway } from './defer.js';
import { memoryAfterGc, type Memory } from './heap.js';
import { bodyOf, headersOf, load, type LoadResult } from './load.js';
import { printMemory, printResults, type Measurement } from './report.js';
import { sampleOf, seededPool, workloads, type Workload } from './workload.js';

const settings = parseFlags('npm run bench:gateway: this gateway beside Hive Gateway (JavaScript and Rust planners) and a bare Apollo Gateway on the same subgraphs.', {
  smoke: { type: 'boolean', help: 'a run of seconds with small defaults, to see that it works (CI)' },
  seconds: { type: 'number', default: 15, smoke: 1, help: 'seconds per measured run' },
  warmup: { type: 'number', default: 5, smoke: 0, help: 'seconds of warm-up per gateway and operation in the first round' },
  rounds: { type: 'number', default: 3, smoke: 1, help: 'rounds, each gateway going first in turn; the figures are medians' },
  connections: { type: 'number', default: 32, smoke: 4, help: 'concurrent connections of the load' },
  scale: { type: 'number', default: 10, smoke: 0.25, help: 'SEED_SCALE of the demo data' },
  baseline: { type: 'string', value: 'REF', help: "also run this git commit's gateway and subgraphs (a worktree, its own databases), alternating with the current ones" },
  only: { type: 'string', value: 'REGEXP', help: 'only the operations whose name matches (e.g. "varied", "Q3|ProductDetail")' },
  'defer-requests': { type: 'number', default: 30, smoke: 3, help: 'requests of the deferred and of the undeferred product page, reviews slowed' },
  'reviews-delay': { type: 'number', default: 200, smoke: 200, help: 'milliseconds the reviews subgraph is held for the deferred product page figures' },
});
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
// Ports from a block of 20: this gateway first, the subgraphs, the other gateways, this gateway
// with reviews slowed (defer.ts), the inspectors.
const stack = new Stack(15_000, 20);
const PEER_PORTS = { 'Hive Gateway': stack.basePort + 5, 'bare Apollo': stack.basePort + 6, 'Hive Gateway, Rust planner': stack.basePort + 7 };
// This gateway and the subgraphs listen for the inspector protocol on loopback, only so that the
// memory figures can be read after a full garbage collection (heap.ts).
const inspectPorts: Record<string, number> = Object.fromEntries(['this gateway', ...SERVICE_NAMES].map((name, i) => [name, stack.basePort + 10 + i]));
const inspect = (name: string) => `--inspect=127.0.0.1:${inspectPorts[name]}`;

/** A gateway under test and the subgraphs it calls (whose CPU its requests cost). */
interface Target {
  gateway: Service;
  subgraphs: Service[];
}

async function postgres(prefix: string): Promise<{ urls: Record<ServiceName, string>; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const urls = {} as Record<ServiceName, string>;
  const names = SERVICE_NAMES.map((name) => `${prefix}_${name}`);
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

/** The composed supergraph, routed to `of`'s subgraphs, written into `dir`. */
async function supergraphFor(of: Stack, file: string): Promise<string> {
  let supergraph = await readFile(path.join(of.root, path.relative(path.dirname(SUPERGRAPH_PATH), SUPERGRAPH_PATH)), 'utf8');
  for (const name of SERVICE_NAMES) {
    supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*`), `$1${of.subgraphUrl(name)}`);
  }
  await writeFile(file, supergraph);
  return file;
}

/**
 * The load comes from one client address at thousands of operations a second, far past what a
 * client may spend (COST_BUDGET): the budget would refuse most of it and the refusals count as
 * fast answers. The budget's own CPU is measured in process instead (the access and cost table).
 */
const OURS = { RESPONSE_CACHE: 'false', COST_BUDGET: String(1e12) };

function startPeers(supergraphFile: string): Promise<Service[]> {
  // Free-form operations and no response cache, as the other gateways run: the gateway's own work is measured.
  const production = { ...stack.productionGatewayEnv(), RESPONSE_CACHE: 'false' };
  const hive = (name: 'Hive Gateway' | 'Hive Gateway, Rust planner', env: NodeJS.ProcessEnv) =>
    startService(
      name,
      ['node_modules/@graphql-hive/gateway/dist/bin.js', 'supergraph', supergraphFile, '--port', String(PEER_PORTS[name]), '--config-path', 'bench/gateway/hive.config.ts'],
      { ...production, ...env },
      graphqlUrl(PEER_PORTS[name]),
    );
  return Promise.all([
    hive('Hive Gateway', {}),
    // Hive Router's query planner (Rust, a native addon: @graphql-hive/router-runtime), as its docs enable it.
    hive('Hive Gateway, Rust planner', { HIVE_ROUTER_RUNTIME: 'true' }),
    startService('bare Apollo', ['--import', 'tsx', 'bench/gateway/bare-apollo.ts', supergraphFile, String(PEER_PORTS['bare Apollo'])], production, graphqlUrl(PEER_PORTS['bare Apollo'])),
  ]);
}

/** Every gateway must answer every workload (a sample of the varied requests) with the same data and no errors, or the figures mean nothing. */
async function checkIdenticalData(gateways: Service[], loads: Workload[]) {
  let requests = 0;
  for (const w of loads) {
    for (const variant of sampleOf(w.variants)) {
      const answers = await Promise.all(gateways.map((g) => post(g.url, { query: w.query, variables: variant.variables }, variant.token)));
      const reference = JSON.stringify(answers[0]!.data);
      for (const [i, answer] of answers.entries()) {
        const where = `${gateways[i]!.name}, ${w.name}, variables ${JSON.stringify(variant.variables ?? {})}`;
        if (answer.errors?.length || !answer.data) throw new Error(`${where}: errors ${JSON.stringify(answer.errors)}`);
        if (JSON.stringify(answer.data) !== reference) throw new Error(`${where}: data differs from ${gateways[0]!.name}'s`);
      }
      requests++;
    }
  }
  console.log(`✔ all ${gateways.length} gateways return identical data for all ${loads.length} operations (${requests} requests each)`);
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

async function measure({ gateway, subgraphs }: Target, w: Workload, seconds: number): Promise<Measurement & LoadResult> {
  const [first] = w.variants;
  const expectBody = await (await fetch(gateway.url, { method: 'POST', headers: headersOf(first!), body: bodyOf(w.query, first!) })).text();
  const before = cpuOf([gateway, ...subgraphs]);
  const result = await load(gateway.url, w.query, w.variants, { connections: settings.connections, seconds, expectBody });
  const after = cpuOf([gateway, ...subgraphs]);
  const perRequest = (ms: number) => ms / Math.max(1, result.requests);
  const cpuPerRequest: Record<string, number> = Object.fromEntries(
    Object.keys(before.figures).map((k) => [k === gateway.name ? 'gateway' : k, perRequest(after.figures[k]! - before.figures[k]!)]),
  );
  cpuPerRequest.postgres = perRequest(postgresDelta(before.postgres, after.postgres));
  return { gateway: gateway.name, workload: w.name, cpuPerRequest, ...result };
}

const started = Date.now();
const databases = await postgres('bench_gateway');
const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-gateway-'));
const services: Service[] = [];
let baseline: Baseline | undefined;
let baselineDatabases: Awaited<ReturnType<typeof postgres>>;
try {
  console.log(datedHeader('This gateway beside Hive Gateway (JavaScript and Rust planners) and a bare Apollo Gateway'));
  console.log(`Subgraphs on ${databases ? 'PostgreSQL' : 'PGlite'}, SEED_SCALE=${settings.scale}; ${settings.connections} connections, ` +
    `${settings.warmup} s warm-up, ${settings.seconds} s per run, ${settings.rounds} round(s)`);
  const subgraphs = await stack.startSubgraphs({ seedScale: settings.scale, dataDir, databases: databases?.urls, nodeFlags: (name) => [inspect(name)] });
  services.push(...subgraphs);
  // The same composed supergraph for every gateway of this checkout, routed to this run's subgraphs.
  const supergraphFile = await supergraphFor(stack, path.join(dataDir, 'supergraph.graphql'));
  const [ours, peers] = await Promise.all([
    stack.startGateway({ name: 'this gateway', supergraphFile, env: OURS, nodeFlags: [inspect('this gateway')] }),
    startPeers(supergraphFile),
  ]);
  services.push(ours, ...peers);
  const targets: Target[] = [ours, ...peers].map((gateway) => ({ gateway, subgraphs }));

  if (settings.baseline) {
    baseline = await checkOutBaseline(settings.baseline, dataDir);
    console.log(`baseline: ${baseline.ref} (${baseline.commit}), its own subgraphs and databases`);
    // The same keys: the customers' tokens of the varied workloads are accepted by both.
    const theirs = new Stack(24_000, 20, baseline.root, stack.keys);
    baselineDatabases = await postgres('bench_gateway_baseline');
    const baseDataDir = path.join(dataDir, 'baseline-data');
    const baseSubgraphs = await theirs.startSubgraphs({ seedScale: settings.scale, dataDir: baseDataDir, databases: baselineDatabases?.urls });
    services.push(...baseSubgraphs);
    const baseGateway = await theirs.startGateway({
      name: `this gateway at ${baseline.ref}`,
      supergraphFile: await supergraphFor(theirs, path.join(dataDir, 'baseline-supergraph.graphql')),
      env: OURS,
    });
    services.push(baseGateway);
    targets.push({ gateway: baseGateway, subgraphs: baseSubgraphs });
  }
  console.log(`started in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const login = await post(ours.url, { query: 'mutation { login(email: "alice@example.com", password: "demo-alice-1") { token } }' });
  const alice = login.data?.login?.token as string;
  if (!alice) throw new Error(`login failed: ${JSON.stringify(login.errors)}`);
  const pool = await seededPool(ours.url, settings.scale, stack.keys.users);
  const only = settings.only === undefined ? undefined : new RegExp(settings.only);
  const loads = workloads(pool, alice).filter((w) => !only || only.test(w.name));
  if (loads.length === 0) throw new Error(`--only ${settings.only}: no operation's name matches`);
  await checkIdenticalData(
    targets.map((t) => t.gateway),
    loads,
  );

  const results: (Measurement & LoadResult)[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    for (const w of loads) {
      // Alternate who goes first, so no gateway always runs on a warmer (or hotter) machine.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const target of order) {
        if (round === 0 && settings.warmup > 0) await measure(target, w, settings.warmup);
        results.push(await measure(target, w, settings.seconds));
      }
    }
    console.log(`round ${round + 1} of ${settings.rounds} done`);
  }
  printResults(results, subgraphs.map((s) => s.name), { ours: ours.name, baseline: baseline ? targets.at(-1)!.gateway.name : undefined });
  const oursPerRequest = new Map(loads.map((w) => [w.name, mean(results.filter((r) => r.gateway === ours.name && r.workload === w.name).map((r) => r.cpuPerRequest.gateway!))]));
  await printAccessCost(await readFile(supergraphFile, 'utf8'), loads, oursPerRequest);

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
    await measure(targets[0]!, w, seconds);
  }
  const afterTwice = await memory();
  printMemory(served, afterRun, afterTwice);

  // @defer: the first payload of the deferred product page against the undeferred page, reviews slowed.
  const delayMs = settings['reviews-delay'];
  const slowed = await startSlowedGateway(supergraphFile, stack.subgraphUrl('reviews'), stack.basePort + 8, delayMs, { ...stack.productionGatewayEnv(), ...OURS });
  services.push(slowed.gateway);
  try {
    printDeferred(await measureDeferred(slowed.gateway.url, pool.productIds[0]!, settings['defer-requests']), delayMs);
  } finally {
    await slowed.proxy.close();
  }
  console.log(`\nbench:gateway finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await stopAll(services);
  await databases?.drop();
  await baselineDatabases?.drop();
  await baseline?.remove();
  await rm(dataDir, { recursive: true, force: true });
}
